// Fluent forward-protocol client for Fluent Bit's forward input: chunks with `{chunk}` options, waits for
// `{ack}`, keeps a bounded number of chunks in flight, reconnects with backoff and resends every unacked
// chunk in order. An ack means Fluent Bit accepted the records; nothing is dropped before that.
import { Decoder } from '@msgpack/msgpack';
import type { Clock, ForwardClient, ForwardEntry, ForwardHooks, Logger, MessageBatch, SendOptions } from '../types.js';
import type { ForwardConnection } from './connection.js';
import { dial, type DialOptions } from './dial.js';
import {
  ForwardAuthError,
  ForwardClosedError,
  ForwardConfigError,
  ForwardConnectionError,
  ForwardDeliveryTimeoutError,
  ForwardError,
  ForwardUnsettledError,
} from './errors.js';
import { ChunkEncoder, type EncodedChunk } from './frames.js';
import { isHelo } from './handshake.js';
import { resolveForwardOptions, type ForwardClientOptions } from './options.js';
import { Reconnects } from './reconnect.js';
import { SettleQueue, type SettlingChunk } from './settle-queue.js';
import { InFlightSlots } from './slots.js';
import { ClockTimer } from '../clock.js';

export type { ForwardClientOptions } from './options.js';

/** Where a chunk's entries lie in its send, and who hears of its ack and its settling. */
interface ChunkSpan {
  readonly from: number;
  readonly to: number;
  readonly opts: SendOptions;
}

interface PendingChunk extends EncodedChunk {
  /** clock.now() of the write on the current connection; 0 = not written on it. */
  writtenAt: number;
  readonly span: ChunkSpan | undefined;
  resolve(): void;
  reject(err: Error): void;
}

export function createForwardClient(opts: ForwardClientOptions): ForwardClient {
  return new FluentForwardClient(opts);
}

// Composed of: InFlightSlots (the in-flight bound), SettleQueue (acks settling), dial + Reconnects (the connection,
// its handshake and backoff) and ClockTimers (ack and delivery timeouts), all on the injected clock.
class FluentForwardClient implements ForwardClient {
  private readonly where: string;
  private readonly dialOptions: DialOptions;
  private readonly encoder: ChunkEncoder;
  private readonly ackTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ForwardHooks;
  private readonly ackDecoder = new Decoder();
  private readonly reconnects: Reconnects;

  /** Unacked chunks in send order: resent in this order after a reconnect. */
  private unacked = new Map<string, PendingChunk>();
  /** Acked chunks whose ack has not stood settleMs yet, in ack order; sent again if their connection closes. */
  private readonly settling: SettleQueue<PendingChunk, ChunkSpan>;
  private readonly settleResend: 'frames' | 'caller';
  private readonly slots: InFlightSlots;
  private activeSends = 0;
  /** Connections served so far: the current one's number (onChunkWritten). */
  private connections = 0;
  private conn: ForwardConnection | undefined;
  private handshaking: ForwardConnection | undefined;
  /** The oldest written chunk must be acked within ackTimeoutMs. */
  private readonly ackTimer: ClockTimer;
  private readonly deliveryTimeoutMs: number | undefined;
  /** Armed while chunks are unacked; restarted by every ack. */
  private readonly deliveryTimer: ClockTimer;
  private wakeLoop: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private stopped = false;
  private fatal: ForwardError | undefined;
  private failedChunks = 0;
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;

  constructor(opts: ForwardClientOptions) {
    const o = resolveForwardOptions(opts);
    this.where = o.where;
    this.dialOptions = o.dial;
    this.encoder = new ChunkEncoder(o.encoder);
    this.slots = new InFlightSlots(o.maxInFlight);
    this.ackTimeoutMs = o.ackTimeoutMs;
    this.settleResend = o.settleResend;
    this.deliveryTimeoutMs = o.deliveryTimeoutMs;
    this.clock = o.clock;
    this.log = o.log;
    this.hooks = o.hooks;
    this.reconnects = new Reconnects({
      backoff: o.backoff,
      random: o.random,
      clock: o.clock,
      hooks: o.hooks,
      log: o.log,
      where: o.where,
    });
    this.settling = new SettleQueue<PendingChunk, ChunkSpan>(
      o.clock,
      o.settleMs,
      (s) => this.delivered(s),
      () => this.checkIdle(),
    );
    this.ackTimer = new ClockTimer(o.clock);
    this.deliveryTimer = new ClockTimer(o.clock);
    this.loop = this.run();
  }

  send(tag: string, entries: readonly ForwardEntry[] | MessageBatch, opts?: SendOptions): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.closing) return Promise.reject(new ForwardClosedError('forward client is closed: send() after close()'));
    if (typeof tag !== 'string' || tag.length === 0)
      return Promise.reject(new ForwardConfigError('forward tag must be a non-empty string'));
    if (entries.length === 0) return Promise.resolve();
    this.activeSends++;
    // Not an async function: its suspended frame would hold `entries` (and the page bytes and per-event objects
    // behind them) through the acks and their settle time, long enough for the GC to promote all of it. Only
    // encodeAll sees them, and it returns once they are encoded.
    return this.encodeAll(tag, entries, opts)
      .then(({ acks, stopError }) => this.awaitAcks(acks, stopError))
      .finally(() => {
        this.activeSends--;
        this.checkIdle();
      });
  }

  /** Chunks already queued keep going: waits for their fate before reporting. */
  private async awaitAcks(acks: Promise<void>[], stopError: unknown): Promise<void> {
    const results = await Promise.allSettled(acks);
    if (stopError !== undefined) throw stopError;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async encodeAll(
    tag: string,
    entries: readonly ForwardEntry[] | MessageBatch,
    opts: SendOptions | undefined,
  ): Promise<{ acks: Promise<void>[]; stopError: unknown }> {
    const acks: Promise<void>[] = [];
    try {
      // The slot first, then the chunk: a chunk encoded before its slot would be a frame held while waiting
      // (one per send waiting for a slot, ~1 MB each).
      const chunks = this.encoder.chunks(tag, entries);
      const perChunk =
        opts?.onChunkAcked !== undefined || opts?.onChunkSettled !== undefined || opts?.onChunkWritten !== undefined;
      let from = 0;
      for (;;) {
        await this.acquireSlot();
        let next: IteratorResult<EncodedChunk, void>;
        try {
          next = chunks.next();
        } catch (err) {
          this.slots.release();
          throw err;
        }
        if (next.done) {
          this.slots.release();
          break;
        }
        const to = from + next.value.entries;
        acks.push(this.enqueue(next.value, perChunk ? { from, to, opts: opts! } : undefined));
        from = to;
      }
      // The frames own copies of the entries now (they are what a resend sends).
      opts?.onEncoded?.();
      return { acks, stopError: undefined };
    } catch (err) {
      return { acks, stopError: err }; // encoding error or fatal/closed while waiting for a slot
    }
  }

  async close(timeoutMs = 30_000): Promise<boolean> {
    this.closing = true;
    const idle = await this.waitIdle(timeoutMs);
    this.stopped = true;
    this.stop.abort();
    this.wakeLoop?.();
    const lost = [...this.settling.values(), ...this.unacked.values()];
    if (lost.length > 0) {
      const entries = lost.reduce((n, c) => n + c.entries, 0);
      const err = new ForwardClosedError(
        `forward client closed with ${lost.length} chunk(s) (${entries} entries) not acknowledged by Fluent Bit at ` +
          `${this.where} within ${timeoutMs} ms; they were not confirmed and must be sent again`,
      );
      this.rejectAll(err);
    }
    this.slots.rejectWaiters(new ForwardClosedError('forward client closed while send() waited for an in-flight slot'));
    this.ackTimer.clear();
    this.settling.clearTimer();
    this.deliveryTimer.clear();
    this.conn?.destroy();
    this.handshaking?.destroy();
    await this.loop;
    return idle && this.failedChunks === 0 && this.fatal === undefined;
  }

  private acquireSlot(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.stopped) return Promise.reject(new ForwardClosedError('forward client is closed'));
    return this.slots.acquire();
  }

  // ---- chunks --------------------------------------------------------------------------------------------

  private enqueue(chunk: EncodedChunk, span: ChunkSpan | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: PendingChunk = { ...chunk, writtenAt: 0, span, resolve, reject };
      this.unacked.set(chunk.id, pending);
      if (!this.deliveryTimer.armed) this.armDeliveryTimer();
      if (this.conn) this.write(this.conn, pending);
      else this.wakeLoop?.();
    });
  }

  private write(conn: ForwardConnection, chunk: PendingChunk): void {
    chunk.writtenAt = this.clock.now();
    const span = chunk.span;
    span?.opts.onChunkWritten?.(span.from, span.to, this.connections, chunk.entryBytes);
    conn.write(chunk.frame);
    if (!this.ackTimer.armed) this.armAckTimer();
  }

  private rejectAll(err: Error): void {
    for (const c of [...this.settling.drain(), ...this.unacked.values()]) {
      this.failedChunks++;
      c.reject(err);
    }
    this.unacked.clear();
    this.deliveryTimer.clear();
    this.slots.reset();
  }

  private onAck(id: string): boolean {
    const chunk = this.unacked.get(id);
    if (!chunk) {
      this.log.debug({ chunk: id }, 'forward: ack for a chunk no longer pending (acked before a reconnect)');
      return false;
    }
    this.unacked.delete(id);
    this.ackTimer.clear();
    this.armAckTimer();
    // Progress: the delivery timeout counts again from now, if anything still waits.
    this.deliveryTimer.clear();
    if (this.unacked.size > 0) this.armDeliveryTimer();
    // Fluent Bit has the frame: its slot serves the next chunk. Delivered only once the ack has stood settleMs.
    this.slots.release();
    const keep = this.settleResend === 'frames' && this.settling.settleMs > 0;
    // Not kept: its memory serves the next chunks at once; a resend is the caller's (ForwardUnsettledError).
    if (!keep) this.encoder.recycle(chunk.frame);
    this.settling.add(
      {
        chunk: keep ? chunk : undefined,
        id,
        entries: chunk.entries,
        span: chunk.span,
        resolve: chunk.resolve,
        reject: chunk.reject,
      },
      (a) => a.span?.opts.onChunkAcked?.(a.span.from, a.span.to, a.ackedAt),
    );
    return true;
  }

  /** An ack stood settleMs on an open connection: delivered, and its frame memory serves the next chunks. */
  private delivered(s: SettlingChunk<PendingChunk, ChunkSpan>): void {
    if (s.chunk) this.encoder.recycle(s.chunk.frame);
    this.hooks.onAck?.({ chunk: s.id, entries: s.entries });
    const h = s.span;
    h?.opts.onChunkSettled?.(h.from, h.to);
    s.resolve();
  }

  /** The connection closed: what it acked too recently may not be stored yet; send it again, first. */
  private unsettle(): void {
    if (this.settling.size === 0) return;
    const lost = this.settling.drain();
    const entries = lost.reduce((n, s) => n + s.entries, 0);
    const { settleMs } = this.settling;
    if (this.settleResend === 'caller') {
      const err = new ForwardUnsettledError(
        `the connection to Fluent Bit at ${this.where} closed within ${settleMs} ms of acknowledging ${lost.length} ` +
          `chunk(s) (${entries} entries): ` +
          'Fluent Bit may not have stored them; they must be sent again',
        entries,
      );
      this.log.warn(
        { target: this.where, chunks: lost.length, entries, settleMs },
        'forward: connection closed within the settle time of acked chunks; the sender sends them again (Fluent Bit ' +
          'may not have stored them)',
      );
      for (const s of lost) s.reject(err);
      this.checkIdle();
      return;
    }
    const back = new Map<string, PendingChunk>();
    for (const s of lost) {
      const c = s.chunk!;
      c.writtenAt = 0;
      back.set(s.id, c);
      this.slots.retake(); // back in flight; may briefly exceed maxInFlight
    }
    for (const [id, c] of this.unacked) back.set(id, c);
    this.unacked = back;
    if (!this.deliveryTimer.armed) this.armDeliveryTimer();
    this.log.warn(
      { target: this.where, chunks: lost.length, entries, settleMs },
      'forward: connection closed within the settle time of acked chunks; sending them again (Fluent Bit may not ' +
        'have stored them yet)',
    );
  }

  // ---- delivery timeout: some ack within deliveryTimeoutMs while chunks wait ---------------------------------

  private armDeliveryTimer(): void {
    if (this.deliveryTimeoutMs === undefined || this.stopped) return;
    const timeoutMs = this.deliveryTimeoutMs;
    this.deliveryTimer.arm(timeoutMs, () => {
      if (this.unacked.size === 0 || this.stopped) return;
      const entries = [...this.unacked.values()].reduce((n, c) => n + c.entries, 0);
      const lastError = this.reconnects.lastError;
      this.failFatal(
        new ForwardDeliveryTimeoutError(
          `Fluent Bit at ${this.where} acknowledged nothing for ${timeoutMs} ms while ${this.unacked.size} chunk(s) ` +
            `(${entries} entries) waited` +
            `${lastError ? ` (last error: ${lastError})` : ''}: giving up; they were not confirmed and are fetched ` +
            `and sent again on the next run. ` +
            'Check that Fluent Bit is running and that its forward input listens at that address (--forward), or ' +
            'allow more time (--delivery-timeout).',
        ),
      );
    });
  }

  // ---- ack timeout: the oldest written chunk must be acked within ackTimeoutMs ----------------------------

  private armAckTimer(): void {
    const oldest = this.unacked.values().next().value as PendingChunk | undefined;
    if (!oldest || oldest.writtenAt === 0 || !this.conn) return;
    const conn = this.conn;
    const wait = Math.max(0, oldest.writtenAt + this.ackTimeoutMs - this.clock.now());
    this.ackTimer.arm(wait, () => {
      if (this.conn !== conn || this.unacked.get(oldest.id) !== oldest) return this.armAckTimer();
      this.log.warn(
        { chunk: oldest.id, entries: oldest.entries, ackTimeoutMs: this.ackTimeoutMs, target: this.where },
        'forward: no ack in time; reconnecting and resending unacked chunks',
      );
      conn.destroy(
        new ForwardConnectionError(`no ack for chunk ${oldest.id} from ${this.where} within ${this.ackTimeoutMs} ms`),
      );
    });
  }

  // ---- idle / close --------------------------------------------------------------------------------------

  private checkIdle(): void {
    if (this.unacked.size !== 0 || this.settling.size !== 0 || this.activeSends !== 0) return;
    // Between polls: the frame memory kept for a burst of traffic is not needed now.
    this.encoder.trim();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.unacked.size === 0 && this.settling.size === 0 && this.activeSends === 0) return Promise.resolve(true);
    if (this.fatal) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = new ClockTimer(this.clock);
      timer.arm(timeoutMs, () => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      });
      const done = (): void => {
        timer.clear();
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  private failFatal(err: ForwardError): void {
    this.fatal = err;
    this.stopped = true;
    this.log.error({ target: this.where, error: err.message }, 'forward: fatal error, giving up');
    this.rejectAll(err);
    this.slots.rejectWaiters(err);
    this.deliveryTimer.clear();
    this.conn?.destroy();
    this.handshaking?.destroy();
    this.stop.abort(); // ends a reconnect backoff or a connect attempt under way
    for (const w of this.idleWaiters.splice(0)) w();
  }

  // ---- connection loop -----------------------------------------------------------------------------------

  private waitForWork(): Promise<void> {
    if (this.unacked.size > 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeLoop = () => {
        this.wakeLoop = undefined;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.waitForWork();
      if (this.stopped) break;
      if (this.reconnects.waiting) {
        await this.reconnects.beforeAttempt(this.stop.signal, this.unacked.size);
        if (this.stopped) break;
      }
      let conn: ForwardConnection;
      try {
        conn = await dial(this.dialOptions, this.stop.signal, (opened) => {
          this.handshaking = opened; // close() destroys it, so a pending HELO/PONG wait ends at once
          if (this.stopped) opened.destroy();
        });
        this.handshaking = undefined;
        if (this.stopped) {
          conn.destroy();
          break;
        }
        this.reconnects.connected();
      } catch (err) {
        this.handshaking?.destroy();
        this.handshaking = undefined;
        if (this.stopped) break;
        const fatal = this.reconnects.failed(err);
        if (fatal) {
          this.failFatal(fatal);
          return;
        }
        continue;
      }
      const result = await this.serve(conn);
      if (this.fatal) return;
      this.reconnects.closed(result);
    }
  }

  private serve(conn: ForwardConnection): Promise<{ progressed: boolean; error?: string }> {
    let progressed = false;
    this.conn = conn;
    this.connections++;
    conn.onMessage((msg) => {
      let decoded: unknown;
      try {
        decoded = this.ackDecoder.decode(msg);
      } catch (err) {
        conn.destroy(new ForwardConnectionError(`undecodable answer from ${this.where}: ${(err as Error).message}`));
        return;
      }
      if (
        decoded !== null &&
        typeof decoded === 'object' &&
        !Array.isArray(decoded) &&
        typeof (decoded as { ack?: unknown }).ack === 'string'
      ) {
        if (this.onAck((decoded as { ack: string }).ack)) progressed = true;
        return;
      }
      if (!this.dialOptions.cred && isHelo(msg)) {
        this.failFatal(
          new ForwardAuthError(
            `Fluent Bit at ${this.where} asks for the shared-key handshake (it sent HELO) but the collector has no ` +
              `shared key: set the collector's shared key (and username/password if security.users is set) to match ` +
              `its forward input`,
            'shared_key_required',
          ),
        );
        return;
      }
      this.log.warn({ target: this.where }, 'forward: ignoring an unexpected message from the server');
    });
    for (const chunk of this.unacked.values()) this.write(conn, chunk);
    if (this.unacked.size > 0)
      this.log.debug({ target: this.where, chunks: this.unacked.size }, 'forward: (re)sent unacked chunks');
    return conn.closed.then((err) => {
      if (this.conn === conn) this.conn = undefined;
      this.ackTimer.clear();
      if (!this.stopped) this.unsettle();
      for (const c of this.unacked.values()) c.writtenAt = 0;
      return { progressed, error: err?.message ?? `Fluent Bit at ${this.where} closed the connection` };
    });
  }
}
