// Whether Fluent Bit ran without a restart since some instant, from its built-in HTTP server (`/api/v1/uptime`,
// `{"uptime_sec": N, ...}`). Used at start-up to decide the chunks Fluent Bit acked whose ack had not settled when
// the collector stopped: a threaded forward input acks from memory and stores within 250 ms, so an acked chunk is
// stored once the Fluent Bit that acked it has kept running for the settle time after the ack. Times are read on the
// clock of the forward client, whose ack times the id journal holds: the wall clock, as Fluent Bit's uptime is.
import type { Clock } from '../../types.js';
import { FluentBitHttpError, fluentBitUrl, getFluentBitJson, type FluentBitHttpTarget } from './http.js';

/** What an uptime answer proves. */
export interface UptimeAnswer {
  /** The clock's time when the answer arrived (Fluent Bit was running then). */
  readonly at: number;
  /** Fluent Bit's running process started before this instant (epoch ms): an upper bound of its start. */
  readonly startedBefore: number;
}

/**
 * Fluent Bit counts uptime in whole seconds (time(NULL) now − time(NULL) at start): with S the start and T ≤ t the
 * instant it answered, floor(T) − floor(S) = N, so S < floor(S) + 1 s = floor(T) − N + 1 s ≤ t − N s + 1 s.
 */
const ROUNDING_MS = 1000;

export class FluentBitUptime {
  private last: UptimeAnswer | undefined;
  private inflight: Promise<UptimeAnswer> | undefined;
  readonly where: string;

  constructor(
    target: FluentBitHttpTarget,
    private readonly clock: Clock,
    private readonly timeoutMs = 5000,
  ) {
    this.where = fluentBitUrl(target, '/api/v1/uptime');
  }

  /** An answer taken at or after `notBefore` (clock ms): a cached one when it is recent enough. */
  async answer(notBefore: number): Promise<UptimeAnswer> {
    if (this.last && this.last.at >= notBefore) return this.last;
    while (this.inflight) {
      const a = await this.inflight.catch(() => undefined);
      if (a && a.at >= notBefore) return a;
      if (!this.inflight) break;
    }
    this.inflight = this.ask().finally(() => {
      this.inflight = undefined;
    });
    const a = await this.inflight;
    this.last = a;
    return a;
  }

  private async ask(): Promise<UptimeAnswer> {
    const { at, body, text } = await getFluentBitJson(this.where, this.timeoutMs, this.clock);
    const sec = body !== null && typeof body === 'object' ? (body as { uptime_sec?: unknown }).uptime_sec : undefined;
    if (typeof sec !== 'number' || !Number.isFinite(sec) || sec < 0) {
      throw new FluentBitHttpError(
        `${this.where} answered without a uptime_sec number (got ${text.slice(0, 80)}): is that Fluent Bit's HTTP ` +
          `server?`,
      );
    }
    return { at, startedBefore: at - sec * 1000 + ROUNDING_MS };
  }
}

/** Whether a chunk acked at `ackedAt` is stored, given an answer taken at least `settleMs` after the ack. */
export function storedSince(answer: UptimeAnswer, ackedAt: number, settleMs: number): boolean {
  // The Fluent Bit running at answer.at started before the ack, so it is the one that acked (one Fluent Bit serves
  // that address at a time), and it kept running from the ack until at least settleMs after it.
  return answer.startedBefore < ackedAt && answer.at >= ackedAt + settleMs;
}
