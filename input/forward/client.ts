// Fluent forward-protocol client for Fluent Bit's forward input: chunks with `{chunk}` options, waits for
// `{ack}`, keeps a bounded number of chunks in flight, reconnects with backoff and resends every unacked
// chunk in order. An ack means Fluent Bit accepted the records; nothing is dropped before that.
import { Decoder } from '@msgpack/msgpack';
import { hostname as osHostname } from 'node:os';
import { systemClock } from '../clock.js';
import type { Clock, ForwardClient, ForwardEntry, ForwardHooks, ForwardTarget, Logger, MessageBatch, SendOptions } from '../types.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { describeTarget, loadTls, openSocket, type ForwardTlsOptions, type LoadedTls } from './connect.js';
import { ConnectionClosedError, ForwardConnection } from './connection.js';
import { ForwardAuthError, ForwardClosedError, ForwardConfigError, ForwardConnectionError, ForwardDeliveryTimeoutError, ForwardError, ForwardUnsettledError } from './errors.js';
import { ChunkEncoder, FLUENT_BIT_BUFFER_MAX_SIZE, type EncodedChunk, type ForwardMode } from './frames.js';
import { buildPing, checkPong, isHelo, parseHelo, type HandshakeCredentials } from './handshake.js';

export interface ForwardClientOptions {
  readonly target: ForwardTarget;
  readonly tls?: ForwardTlsOptions;
  /** shared_key of the forward input; enables the HELO/PING/PONG handshake. */
  readonly sharedKey?: string;
  /** A user of the input's security.users (needs sharedKey). */
  readonly username?: string;
  readonly password?: string;
  /** Our name in PING (default: os.hostname()). */
  readonly hostname?: string;
  /** 'packed' (PackedForward, default) or 'forward' (Forward mode). */
  readonly mode?: ForwardMode;
  /** Target bytes of entries per chunk (default 1,000,000). */
  readonly maxChunkBytes?: number;
  /** Hard bound of one frame (default 6,000,000; Fluent Bit closes the connection above 6,144,000). */
  readonly maxFrameBytes?: number;
  /** Chunks sent and not yet acked (default 8); send() waits at the bound. */
  readonly maxInFlight?: number;
  /** No ack within this time: the connection is treated as dead, reconnected and resent (default 30 s). */
  readonly ackTimeoutMs?: number;
  /**
   * How long an ack must stand, on a connection that stays open, before the chunk counts as delivered (default
   * 500 ms; 0: at once). Fluent Bit's threaded forward input acks records that are still in an in-memory ring
   * buffer, moved into (filesystem) storage every 250 ms: a kill -9 in between loses acked records. When the
   * connection closes within this time, the chunk is sent again (at-least-once: it may already be stored).
   */
  readonly settleMs?: number;
  /**
   * Who sends an acked chunk again when its connection closes within settleMs. 'frames' (default): the client keeps
   * every frame until its ack settled and resends it itself. 'caller': the frame is let go at the ack (at 60,000
   * events/s the settle time alone held ~60 MB of frames) and the send rejects with ForwardUnsettledError, so the
   * caller sends those entries again from its own source (the collector re-reads them from the API).
   */
  readonly settleResend?: 'frames' | 'caller';
  readonly connectTimeoutMs?: number;
  /**
   * Give up (fatal ForwardDeliveryTimeoutError: every pending send rejects) when chunks have waited this long
   * without any ack: Fluent Bit unreachable or never acking. Unset (default): retry forever, as a long-running
   * collector should; a one-pass run sets it so that it ends.
   */
  readonly deliveryTimeoutMs?: number;
  /** Time allowed for HELO and for PONG (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Reconnect backoff (default base 200 ms, max 30 s). */
  readonly backoff?: Partial<BackoffOptions>;
  /** Clock for backoff sleeps (default the wall clock). */
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly hooks?: ForwardHooks;
}

interface PendingChunk extends EncodedChunk {
  /** Date.now() of the write on the current connection; 0 = not written on it. */
  writtenAt: number;
  resolve(): void;
  reject(err: Error): void;
}

/** An acked chunk while its ack settles; with settleResend 'caller' its frame is already let go. */
interface SettlingChunk {
  readonly chunk: PendingChunk | undefined;
  readonly id: string;
  readonly entries: number;
  /** Date.now() of its ack. */
  readonly ackedAt: number;
  resolve(): void;
  reject(err: Error): void;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Closed after PING without PONG: Fluent Bit's answer to a shared_key mismatch (or a pause at that instant). */
class NoPongError extends ForwardConnectionError {
  override readonly name = 'NoPongError';
  override readonly code: string = 'FORWARD_NO_PONG';
}

function positive(name: string, value: number | undefined, dflt: number): number {
  const v = value ?? dflt;
  if (!Number.isFinite(v) || v <= 0) throw new ForwardConfigError(`forward option ${name} must be a positive number, got ${value}`);
  return v;
}

export function createForwardClient(opts: ForwardClientOptions): ForwardClient {
  return new FluentForwardClient(opts);
}

class FluentForwardClient implements ForwardClient {
  private readonly target: ForwardTarget;
  private readonly where: string;
  private readonly tls: LoadedTls | undefined;
  private readonly cred: HandshakeCredentials | undefined;
  private readonly encoder: ChunkEncoder;
  private readonly maxInFlight: number;
  private readonly ackTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly hooks: ForwardHooks;
  private readonly ackDecoder = new Decoder();

  /** Unacked chunks in send order: resent in this order after a reconnect. */
  private readonly unacked = new Map<string, PendingChunk>();
  /** Acked chunks whose ack has not stood settleMs yet, in ack order; sent again if their connection closes. */
  private settling = new Map<string, SettlingChunk>();
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly settleMs: number;
  private readonly settleResend: 'frames' | 'caller';
  private inFlight = 0;
  private readonly slotWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private activeSends = 0;
  private conn: ForwardConnection | undefined;
  private handshaking: ForwardConnection | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly deliveryTimeoutMs: number | undefined;
  /** Armed while chunks are unacked; restarted by every ack. */
  private deliveryTimer: NodeJS.Timeout | undefined;
  /** Why the last connection attempt or connection ended (for the delivery timeout's message). */
  private lastError: string | undefined;
  private wakeLoop: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private stopped = false;
  private fatal: ForwardError | undefined;
  private failedChunks = 0;
  private readonly stop = new AbortController();
  private readonly loop: Promise<void>;

  constructor(opts: ForwardClientOptions) {
    this.target = opts.target;
    this.where = describeTarget(opts.target);
    this.tls = opts.tls ? loadTls(opts.tls) : undefined;
    if ((opts.username !== undefined || opts.password !== undefined) && opts.sharedKey === undefined) {
      throw new ForwardConfigError('forward username/password need a shared key: Fluent Bit checks users only inside the shared-key handshake');
    }
    if (opts.sharedKey !== undefined && opts.sharedKey.length === 0) {
      throw new ForwardConfigError('forward shared key is empty: leave it unset or give the shared_key of the forward input');
    }
    this.cred = opts.sharedKey !== undefined
      ? { sharedKey: opts.sharedKey, username: opts.username, password: opts.password, hostname: opts.hostname ?? osHostname() }
      : undefined;
    const maxFrameBytes = positive('maxFrameBytes', opts.maxFrameBytes, 6_000_000);
    if (maxFrameBytes > FLUENT_BIT_BUFFER_MAX_SIZE) {
      throw new ForwardConfigError(`forward maxFrameBytes ${maxFrameBytes} is above Fluent Bit's buffer_max_size ${FLUENT_BIT_BUFFER_MAX_SIZE}: such frames are dropped without ack`);
    }
    const maxChunkBytes = Math.min(positive('maxChunkBytes', opts.maxChunkBytes, 1_000_000), maxFrameBytes - 1024);
    this.encoder = new ChunkEncoder({ mode: opts.mode ?? 'packed', maxChunkBytes, maxFrameBytes });
    this.maxInFlight = Math.floor(positive('maxInFlight', opts.maxInFlight, 8));
    this.ackTimeoutMs = positive('ackTimeoutMs', opts.ackTimeoutMs, 30_000);
    this.settleMs = opts.settleMs ?? 500;
    if (!Number.isFinite(this.settleMs) || this.settleMs < 0) throw new ForwardConfigError(`forward option settleMs must be a number >= 0, got ${opts.settleMs}`);
    this.settleResend = opts.settleResend ?? 'frames';
    if (this.settleResend !== 'frames' && this.settleResend !== 'caller') throw new ForwardConfigError(`forward option settleResend must be 'frames' or 'caller', got ${String(opts.settleResend)}`);
    this.connectTimeoutMs = positive('connectTimeoutMs', opts.connectTimeoutMs, 10_000);
    this.handshakeTimeoutMs = positive('handshakeTimeoutMs', opts.handshakeTimeoutMs, 10_000);
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs === undefined ? undefined : positive('deliveryTimeoutMs', opts.deliveryTimeoutMs, 1);
    this.backoff = {
      baseMs: positive('backoff.baseMs', opts.backoff?.baseMs, 200),
      maxMs: positive('backoff.maxMs', opts.backoff?.maxMs, 30_000),
    };
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger ?? silentLogger;
    this.hooks = opts.hooks ?? {};
    this.loop = this.run();
  }

  send(tag: string, entries: readonly ForwardEntry[] | MessageBatch, opts?: SendOptions): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.closing) return Promise.reject(new ForwardClosedError('forward client is closed: send() after close()'));
    if (typeof tag !== 'string' || tag.length === 0) return Promise.reject(new ForwardConfigError('forward tag must be a non-empty string'));
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

  private async encodeAll(tag: string, entries: readonly ForwardEntry[] | MessageBatch, opts: SendOptions | undefined): Promise<{ acks: Promise<void>[]; stopError: unknown }> {
    const acks: Promise<void>[] = [];
    try {
      // The slot first, then the chunk: a chunk encoded before its slot would be a frame held while waiting
      // (one per send waiting for a slot, ~1 MB each).
      const chunks = this.encoder.chunks(tag, entries);
      for (;;) {
        await this.acquireSlot();
        let next: IteratorResult<EncodedChunk, void>;
        try {
          next = chunks.next();
        } catch (err) {
          this.releaseSlot();
          throw err;
        }
        if (next.done) {
          this.releaseSlot();
          break;
        }
        acks.push(this.enqueue(next.value));
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
      const err = new ForwardClosedError(`forward client closed with ${lost.length} chunk(s) (${entries} entries) not acknowledged by Fluent Bit at ${this.where} within ${timeoutMs} ms; they were not confirmed and must be sent again`);
      this.rejectAll(err);
    }
    this.rejectWaiters(new ForwardClosedError('forward client closed while send() waited for an in-flight slot'));
    this.clearAckTimer();
    this.clearSettleTimer();
    this.clearDeliveryTimer();
    this.conn?.destroy();
    this.handshaking?.destroy();
    await this.loop;
    return idle && this.failedChunks === 0 && this.fatal === undefined;
  }

  // ---- in-flight bound -------------------------------------------------------------------------------------

  private acquireSlot(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.stopped) return Promise.reject(new ForwardClosedError('forward client is closed'));
    if (this.inFlight < this.maxInFlight && this.slotWaiters.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.slotWaiters.push({ resolve, reject }));
  }

  private releaseSlot(): void {
    this.inFlight--;
    while (this.inFlight < this.maxInFlight && this.slotWaiters.length > 0) {
      this.inFlight++;
      this.slotWaiters.shift()!.resolve();
    }
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.slotWaiters.splice(0)) w.reject(err);
  }

  // ---- chunks --------------------------------------------------------------------------------------------

  private enqueue(chunk: EncodedChunk): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: PendingChunk = { ...chunk, writtenAt: 0, resolve, reject };
      this.unacked.set(chunk.id, pending);
      if (!this.deliveryTimer) this.armDeliveryTimer();
      if (this.conn) this.write(this.conn, pending);
      else this.wakeLoop?.();
    });
  }

  private write(conn: ForwardConnection, chunk: PendingChunk): void {
    chunk.writtenAt = Date.now();
    conn.write(chunk.frame);
    if (!this.ackTimer) this.armAckTimer();
  }

  private rejectAll(err: Error): void {
    for (const c of [...this.settling.values(), ...this.unacked.values()]) {
      this.failedChunks++;
      c.reject(err);
    }
    this.settling.clear();
    this.unacked.clear();
    this.clearSettleTimer();
    this.clearDeliveryTimer();
    this.inFlight = 0;
  }

  private onAck(id: string): boolean {
    const chunk = this.unacked.get(id);
    if (!chunk) {
      this.log.debug({ chunk: id }, 'forward: ack for a chunk no longer pending (acked before a reconnect)');
      return false;
    }
    this.unacked.delete(id);
    this.clearAckTimer();
    this.armAckTimer();
    // Progress: the delivery timeout counts again from now, if anything still waits.
    this.clearDeliveryTimer();
    if (this.unacked.size > 0) this.armDeliveryTimer();
    // Fluent Bit has the frame: its slot serves the next chunk. Delivered only once the ack has stood settleMs.
    this.releaseSlot();
    const keep = this.settleResend === 'frames' && this.settleMs > 0;
    // Not kept: its memory serves the next chunks at once; a resend is the caller's (ForwardUnsettledError).
    if (!keep) this.encoder.recycle(chunk.frame);
    this.settling.set(id, { chunk: keep ? chunk : undefined, id, entries: chunk.entries, ackedAt: Date.now(), resolve: chunk.resolve, reject: chunk.reject });
    if (this.settleMs === 0) this.settle();
    else if (!this.settleTimer) this.armSettleTimer();
    return true;
  }

  // ---- settling: an ack counts once it has stood settleMs on an open connection -----------------------------

  private armSettleTimer(): void {
    const oldest = this.settling.values().next().value as SettlingChunk | undefined;
    if (!oldest) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.settle();
      this.armSettleTimer();
    }, Math.max(0, oldest.ackedAt + this.settleMs - Date.now()));
  }

  private clearSettleTimer(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }

  private settle(): void {
    const now = Date.now();
    for (const [id, chunk] of this.settling) {
      if (chunk.ackedAt + this.settleMs > now) break;
      this.settling.delete(id);
      // Delivered: its frame memory serves the next chunks.
      if (chunk.chunk) this.encoder.recycle(chunk.chunk.frame);
      this.hooks.onAck?.({ chunk: id, entries: chunk.entries });
      chunk.resolve();
    }
    this.checkIdle();
  }

  /** The connection closed: what it acked too recently may not be stored yet; send it again, first. */
  private unsettle(): void {
    if (this.settling.size === 0) return;
    this.clearSettleTimer();
    let entries = 0;
    for (const s of this.settling.values()) entries += s.entries;
    if (this.settleResend === 'caller') {
      const err = new ForwardUnsettledError(
        `the connection to Fluent Bit at ${this.where} closed within ${this.settleMs} ms of acknowledging ${this.settling.size} chunk(s) (${entries} entries): ` +
          'Fluent Bit may not have stored them; they must be sent again',
        entries,
      );
      this.log.warn({ target: this.where, chunks: this.settling.size, entries, settleMs: this.settleMs },
        'forward: connection closed within the settle time of acked chunks; the sender sends them again (Fluent Bit may not have stored them yet)');
      const lost = [...this.settling.values()];
      this.settling = new Map();
      for (const s of lost) s.reject(err);
      this.checkIdle();
      return;
    }
    const back = new Map<string, PendingChunk>();
    for (const [id, s] of this.settling) {
      const c = s.chunk!;
      c.writtenAt = 0;
      back.set(id, c);
      this.inFlight++; // back in flight; may briefly exceed maxInFlight
    }
    for (const [id, c] of this.unacked) back.set(id, c);
    this.unacked.clear();
    for (const [id, c] of back) this.unacked.set(id, c);
    if (!this.deliveryTimer) this.armDeliveryTimer();
    this.log.warn({ target: this.where, chunks: this.settling.size, entries, settleMs: this.settleMs },
      'forward: connection closed within the settle time of acked chunks; sending them again (Fluent Bit may not have stored them yet)');
    this.settling = new Map();
  }

  // ---- delivery timeout: some ack within deliveryTimeoutMs while chunks wait ---------------------------------

  private armDeliveryTimer(): void {
    if (this.deliveryTimeoutMs === undefined || this.stopped) return;
    const timeoutMs = this.deliveryTimeoutMs;
    this.deliveryTimer = setTimeout(() => {
      this.deliveryTimer = undefined;
      if (this.unacked.size === 0 || this.stopped) return;
      const entries = [...this.unacked.values()].reduce((n, c) => n + c.entries, 0);
      this.failFatal(new ForwardDeliveryTimeoutError(
        `Fluent Bit at ${this.where} acknowledged nothing for ${timeoutMs} ms while ${this.unacked.size} chunk(s) (${entries} entries) waited` +
          `${this.lastError ? ` (last error: ${this.lastError})` : ''}: giving up; they were not confirmed and are fetched and sent again on the next run. ` +
          'Check that Fluent Bit is running and that its forward input listens at that address (--forward), or allow more time (--delivery-timeout).',
      ));
    }, timeoutMs);
  }

  private clearDeliveryTimer(): void {
    if (this.deliveryTimer) clearTimeout(this.deliveryTimer);
    this.deliveryTimer = undefined;
  }

  // ---- ack timeout: the oldest written chunk must be acked within ackTimeoutMs ----------------------------

  private armAckTimer(): void {
    const oldest = this.unacked.values().next().value as PendingChunk | undefined;
    if (!oldest || oldest.writtenAt === 0 || !this.conn) return;
    const conn = this.conn;
    const wait = Math.max(0, oldest.writtenAt + this.ackTimeoutMs - Date.now());
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (this.conn !== conn || this.unacked.get(oldest.id) !== oldest) return this.armAckTimer();
      this.log.warn({ chunk: oldest.id, entries: oldest.entries, ackTimeoutMs: this.ackTimeoutMs, target: this.where },
        'forward: no ack in time; reconnecting and resending unacked chunks');
      conn.destroy(new ForwardConnectionError(`no ack for chunk ${oldest.id} from ${this.where} within ${this.ackTimeoutMs} ms`));
    }, wait);
  }

  private clearAckTimer(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
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
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
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
    this.rejectWaiters(err);
    this.clearDeliveryTimer();
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
    let attempt = 0;
    let lastError: string | undefined;
    let noPongStrikes = 0;
    while (!this.stopped) {
      await this.waitForWork();
      if (this.stopped) break;
      if (attempt > 0) {
        const delayMs = backoffDelay(attempt, this.backoff, this.random);
        this.hooks.onReconnect?.({ attempt, delayMs, error: lastError });
        this.log.warn({ target: this.where, attempt, delayMs, error: lastError, unackedChunks: this.unacked.size },
          'forward: reconnecting to Fluent Bit');
        await this.clock.sleep(delayMs, this.stop.signal);
        if (this.stopped) break;
      }
      let conn: ForwardConnection | undefined;
      try {
        const socket = await openSocket(this.target, this.tls, this.connectTimeoutMs, this.stop.signal);
        conn = new ForwardConnection(socket, this.where);
        this.handshaking = conn; // close() destroys it, so a pending HELO/PONG wait ends at once
        if (this.stopped) conn.destroy();
        if (this.cred) await this.handshake(conn, this.cred);
        this.handshaking = undefined;
        if (this.stopped) {
          conn.destroy();
          break;
        }
        noPongStrikes = 0;
      } catch (err) {
        this.handshaking = undefined;
        conn?.destroy();
        if (this.stopped) break;
        if (err instanceof ForwardAuthError) {
          this.failFatal(err);
          return;
        }
        if (err instanceof NoPongError && ++noPongStrikes >= 2) {
          this.failFatal(new ForwardAuthError(
            `Fluent Bit at ${this.where} closed the connection after our PING without answering PONG, ${noPongStrikes} times in a row: ` +
              'its forward input rejects our shared key (it logs "shared_key mismatch"). Make the collector\'s shared key equal to shared_key of the [INPUT] forward section.',
            'shared_key',
          ));
          return;
        }
        lastError = (err as Error).message;
        this.lastError = lastError;
        attempt++;
        continue;
      }
      const result = await this.serve(conn);
      if (this.fatal) return;
      lastError = result.error;
      this.lastError = lastError;
      // A connection that got acks was healthy: reconnect after the base delay; one that got none backs off further.
      attempt = result.progressed ? 1 : attempt + 1;
    }
  }

  private async handshake(conn: ForwardConnection, cred: HandshakeCredentials): Promise<void> {
    let heloBytes: Buffer;
    try {
      heloBytes = await conn.next(this.handshakeTimeoutMs, 'HELO');
    } catch (err) {
      if (err instanceof ConnectionClosedError) throw err;
      throw new ForwardConnectionError(`${(err as Error).message}: a shared key is configured, but Fluent Bit sent no HELO — is shared_key set on its forward input?`);
    }
    const helo = parseHelo(heloBytes);
    const { frame, salt } = buildPing(helo, cred);
    conn.write(frame);
    let pong: Buffer;
    try {
      pong = await conn.next(this.handshakeTimeoutMs, 'PONG');
    } catch (err) {
      if (err instanceof ConnectionClosedError) throw new NoPongError(`Fluent Bit at ${this.where} closed the connection after PING without PONG`);
      throw err;
    }
    const { serverHostname } = checkPong(pong, helo, salt, cred);
    this.log.debug({ target: this.where, serverHostname, username: cred.username }, 'forward: handshake done');
  }

  private serve(conn: ForwardConnection): Promise<{ progressed: boolean; error?: string }> {
    let progressed = false;
    this.conn = conn;
    conn.onMessage((msg) => {
      let decoded: unknown;
      try {
        decoded = this.ackDecoder.decode(msg);
      } catch (err) {
        conn.destroy(new ForwardConnectionError(`undecodable answer from ${this.where}: ${(err as Error).message}`));
        return;
      }
      if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded) && typeof (decoded as { ack?: unknown }).ack === 'string') {
        if (this.onAck((decoded as { ack: string }).ack)) progressed = true;
        return;
      }
      if (!this.cred && isHelo(msg)) {
        this.failFatal(new ForwardAuthError(
          `Fluent Bit at ${this.where} asks for the shared-key handshake (it sent HELO) but the collector has no shared key: set the collector's shared key (and username/password if security.users is set) to match its forward input`,
          'shared_key_required',
        ));
        return;
      }
      this.log.warn({ target: this.where }, 'forward: ignoring an unexpected message from the server');
    });
    for (const chunk of this.unacked.values()) this.write(conn, chunk);
    if (this.unacked.size > 0) this.log.debug({ target: this.where, chunks: this.unacked.size }, 'forward: (re)sent unacked chunks');
    return conn.closed.then((err) => {
      if (this.conn === conn) this.conn = undefined;
      this.clearAckTimer();
      if (!this.stopped) this.unsettle();
      for (const c of this.unacked.values()) c.writtenAt = 0;
      return { progressed, error: err?.message ?? `Fluent Bit at ${this.where} closed the connection` };
    });
  }
}
