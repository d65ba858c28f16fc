// What a running collector says at `info` once it is past start-up: one line per completed poll (of one query: its
// orgs polled together), or, with many streams (where that would be a flood), one aggregate line every `everyMs` over
// the polls of that time.
import type { Clock, Logger } from '../../types.js';
import { streamName, type StreamKey } from '../state/state.js';

export interface PollSummary {
  /** The query's org (or its first org and how many more, `a+99`) and service. */
  readonly key: StreamKey;
  /** Orgs the query served (1 unless batched). */
  readonly orgs?: number;
  /** Events the API returned for the window. */
  readonly fetched: number;
  /** Events acked by Fluent Bit. */
  readonly forwarded: number;
  /** Events skipped because their id was already forwarded (the overlap re-scan). */
  readonly duplicates: number;
  /** The checkpoint the poll moved to (epoch ms). */
  readonly checkpoint: number;
  /** now − checkpoint (ms), on the engine's clock. */
  readonly lagMs: number;
}

export interface PollLogOptions {
  readonly logger: Logger;
  /** Streams of the run (org × service). */
  readonly streams: number;
  /** More streams than this: aggregate lines instead of one per poll. */
  readonly aggregateAbove: number;
  /** Real ms between aggregate lines. */
  readonly everyMs: number;
  /** Real time: the pace of the lines (run.ts gives the wall clock; tests a manual one). */
  readonly clock: Pick<Clock, 'now'>;
}

export class PollLog {
  private readonly now: () => number;
  private readonly aggregate: boolean;
  private periodStart: number;
  private polls = 0;
  private fetched = 0;
  private forwarded = 0;
  private duplicates = 0;
  /** Orgs polled, by query. */
  private readonly polled = new Map<string, number>();
  private maxLagMs = -1;
  private mostBehind = '';

  constructor(private readonly opts: PollLogOptions) {
    this.now = () => opts.clock.now();
    this.aggregate = opts.streams > opts.aggregateAbove;
    this.periodStart = this.now();
  }

  completed(p: PollSummary): void {
    const orgs = p.orgs ?? 1;
    if (!this.aggregate) {
      this.opts.logger.info(
        {
          org: p.key.org,
          ...(orgs > 1 ? { orgs } : {}),
          service: p.key.service,
          fetched: p.fetched,
          forwarded: p.forwarded,
          duplicatesSkipped: p.duplicates,
          lagSeconds: Math.round(p.lagMs / 1000),
          checkpoint: new Date(p.checkpoint).toISOString(),
        },
        'poll complete',
      );
      return;
    }
    const name = streamName(p.key);
    this.polls += orgs;
    this.fetched += p.fetched;
    this.forwarded += p.forwarded;
    this.duplicates += p.duplicates;
    this.polled.set(name, orgs);
    if (p.lagMs > this.maxLagMs) {
      this.maxLagMs = p.lagMs;
      this.mostBehind = name;
    }
    if (this.now() - this.periodStart >= this.opts.everyMs) this.flush();
  }

  /** Logs the aggregate of the polls since the last line, if any (at the end of a run too). */
  flush(): void {
    const now = this.now();
    if (this.aggregate && this.polls > 0) {
      this.opts.logger.info(
        {
          streams: this.opts.streams,
          streamsPolled: [...this.polled.values()].reduce((a, b) => a + b, 0),
          polls: this.polls,
          fetched: this.fetched,
          forwarded: this.forwarded,
          duplicatesSkipped: this.duplicates,
          maxLagSeconds: Math.round(this.maxLagMs / 1000),
          mostBehind: this.mostBehind,
          periodSeconds: Math.round((now - this.periodStart) / 1000),
        },
        'polls complete',
      );
    }
    this.periodStart = now;
    this.polls = this.fetched = this.forwarded = this.duplicates = 0;
    this.polled.clear();
    this.maxLagMs = -1;
    this.mostBehind = '';
  }
}
