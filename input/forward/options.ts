// The forward client's options: what each means, its default, and the checks that refuse a bad one
// (ForwardConfigError) before anything connects.
import { hostname as osHostname } from 'node:os';
import { systemClock } from '../clock.js';
import type { Clock, ForwardHooks, ForwardTarget, Logger } from '../types.js';
import type { Backoff } from '../backoff.js';
import { describeTarget, loadTls, type ForwardTlsOptions } from './connect.js';
import type { DialOptions } from './dial.js';
import { ForwardConfigError } from './errors.js';
import { FLUENT_BIT_BUFFER_MAX_SIZE, type ChunkEncoderOptions, type ForwardMode } from './frames.js';

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
  readonly backoff?: Partial<Pick<Backoff, 'baseMs' | 'maxMs'>>;
  /**
   * Clock for every time the client reads or waits for: settle, ack and delivery timeouts, backoff (default the wall
   * clock).
   */
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly hooks?: ForwardHooks;
}

/** The options with their defaults, checked. */
export interface ResolvedForwardOptions {
  readonly where: string;
  readonly dial: DialOptions;
  readonly encoder: ChunkEncoderOptions;
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
  readonly settleMs: number;
  readonly settleResend: 'frames' | 'caller';
  readonly deliveryTimeoutMs: number | undefined;
  readonly backoff: Backoff;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Logger;
  readonly hooks: ForwardHooks;
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function positive(name: string, value: number | undefined, dflt: number): number {
  const v = value ?? dflt;
  if (!Number.isFinite(v) || v <= 0)
    throw new ForwardConfigError(`forward option ${name} must be a positive number, got ${value}`);
  return v;
}

export function resolveForwardOptions(opts: ForwardClientOptions): ResolvedForwardOptions {
  const where = describeTarget(opts.target);
  const tls = opts.tls ? loadTls(opts.tls) : undefined;
  if ((opts.username !== undefined || opts.password !== undefined) && opts.sharedKey === undefined) {
    throw new ForwardConfigError(
      'forward username/password need a shared key: Fluent Bit checks users only inside the shared-key handshake',
    );
  }
  if (opts.sharedKey !== undefined && opts.sharedKey.length === 0) {
    throw new ForwardConfigError(
      'forward shared key is empty: leave it unset or give the shared_key of the forward input',
    );
  }
  const cred =
    opts.sharedKey !== undefined
      ? {
          sharedKey: opts.sharedKey,
          username: opts.username,
          password: opts.password,
          hostname: opts.hostname ?? osHostname(),
        }
      : undefined;
  const maxFrameBytes = positive('maxFrameBytes', opts.maxFrameBytes, 6_000_000);
  if (maxFrameBytes > FLUENT_BIT_BUFFER_MAX_SIZE) {
    throw new ForwardConfigError(
      `forward maxFrameBytes ${maxFrameBytes} is above Fluent Bit's buffer_max_size ${FLUENT_BIT_BUFFER_MAX_SIZE}: ` +
        `such frames are dropped without ack`,
    );
  }
  const maxChunkBytes = Math.min(positive('maxChunkBytes', opts.maxChunkBytes, 1_000_000), maxFrameBytes - 1024);
  const maxInFlight = Math.floor(positive('maxInFlight', opts.maxInFlight, 8));
  const ackTimeoutMs = positive('ackTimeoutMs', opts.ackTimeoutMs, 30_000);
  const settleMs = opts.settleMs ?? 500;
  if (!Number.isFinite(settleMs) || settleMs < 0)
    throw new ForwardConfigError(`forward option settleMs must be a number >= 0, got ${opts.settleMs}`);
  const settleResend = opts.settleResend ?? 'frames';
  if (settleResend !== 'frames' && settleResend !== 'caller')
    throw new ForwardConfigError(
      `forward option settleResend must be 'frames' or 'caller', got ${String(opts.settleResend)}`,
    );
  const connectTimeoutMs = positive('connectTimeoutMs', opts.connectTimeoutMs, 10_000);
  const handshakeTimeoutMs = positive('handshakeTimeoutMs', opts.handshakeTimeoutMs, 10_000);
  const deliveryTimeoutMs =
    opts.deliveryTimeoutMs === undefined ? undefined : positive('deliveryTimeoutMs', opts.deliveryTimeoutMs, 1);
  // Equal jitter: never zero, so no hot reconnect loop (../backoff.ts).
  const backoff: Backoff = {
    baseMs: positive('backoff.baseMs', opts.backoff?.baseMs, 200),
    maxMs: positive('backoff.maxMs', opts.backoff?.maxMs, 30_000),
    jitter: 'equal',
  };
  const log = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  return {
    where,
    dial: { target: opts.target, where, tls, cred, connectTimeoutMs, handshakeTimeoutMs, clock, log },
    encoder: { mode: opts.mode ?? 'packed', maxChunkBytes, maxFrameBytes },
    maxInFlight,
    ackTimeoutMs,
    settleMs,
    settleResend,
    deliveryTimeoutMs,
    backoff,
    clock,
    random: opts.random ?? Math.random,
    log,
    hooks: opts.hooks ?? {},
  };
}
