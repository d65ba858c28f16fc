// One stream (org × service): open its track (journal and state), then poll windows [checkpoint − overlap, now − lag)
// — or backfill a long gap in slices — advancing the checkpoint only after every event before it was delivered.
import type { Clock, CollectorConfig, DiClient, ForwardClient, Logger } from '../../types.js';
import { errorCode, isAbortError, isFatal } from '../../errors.js';
import type { RestartOracle, SeenIds } from '../delivery/index.js';
import { fetchRangeChecked } from '../fetch/checked.js';
import { fetchByCounts, type FetchMemo } from '../fetch/overlap-counts.js';
import type { StreamContext } from '../fetch/range.js';
import type { EngineMetrics } from '../metrics.js';
import type { StreamKey } from '../state/state.js';
import { isoMillis } from '../state/timestamp.js';
import { runBackfill } from './backfill.js';
import type { PollLog } from './poll-log.js';
import type { BackfillBoard } from './progress.js';
import type { Semaphore } from './semaphore.js';
import { openTrack, type Track } from './track.js';

/** The stream's part of the configuration, plus the engine's tuning. */
export interface StreamSettings extends Pick<
  CollectorConfig,
  | 'stateDir'
  | 'tag'
  | 'sinceMs'
  | 'sinceGiven'
  | 'lagMs'
  | 'overlapMs'
  | 'intervalMs'
  | 'once'
  | 'backfillSlices'
  | 'maxSeenIds'
  | 'ackSettleMs'
> {
  readonly backfillThresholdMs: number;
  readonly sendBatch: number;
  readonly pipelinePages: number;
  readonly pipelineBytes?: number;
  /** The backfill progress shown over every stream. */
  readonly progress: BackfillBoard;
  /** Where completed polls are reported at info (one line each, or aggregated with many streams). */
  readonly pollLog?: PollLog;
}

export interface StreamDeps {
  /** Taken for each poll (window or backfill) so that at most N streams fetch at once. */
  readonly permits?: Semaphore;
  readonly di: DiClient;
  readonly forward: ForwardClient;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly clock: Clock;
  /** Real time (the pace of disk writes): run.ts's wallClock. */
  readonly wallClock: Clock;
  /** --fluent-bit-http: decides at start what the last run had in flight; its ledger numbers this run's writes. */
  readonly oracle?: RestartOracle;
}

export interface StreamResult {
  readonly org: string;
  readonly service: string;
  /** ok: every pass completed; stopped: aborted by the signal (state persisted); failed: see error. */
  readonly status: 'ok' | 'stopped' | 'failed';
  readonly error?: Error;
  readonly forwarded: number;
  readonly duplicatesSkipped: number;
  /** ISO checkpoint at the end (undefined when the state could not be read). */
  readonly checkpoint?: string;
  /** Windows that still disagreed with /events/count after their re-fetch. */
  readonly incompleteWindows: number;
}

/** `config.tag` with `{service}` and `{org}` replaced (`{org}` is empty without an org id). */
function renderTag(template: string, key: StreamKey): string {
  return template.replaceAll('{service}', key.service).replaceAll('{org}', key.org);
}

/** What a stream reports in its result, counted as its metrics are. */
class StreamCounts {
  forwarded = 0;
  duplicatesSkipped = 0;
  incompleteWindows = 0;

  /** The engine's metrics, counting into this as they go. */
  metrics(m: EngineMetrics): EngineMetrics {
    return {
      checkpoint: (o, s, ms) => m.checkpoint(o, s, ms),
      success: (o, s, at) => m.success(o, s, at),
      streamFailed: (o, s, r) => m.streamFailed(o, s, r),
      streamStarted: (o, s) => m.streamStarted(o, s),
      completenessRefetch: (o, s) => m.completenessRefetch(o, s),
      eventsForwarded: (o, s, n) => {
        this.forwarded += n;
        m.eventsForwarded(o, s, n);
      },
      duplicatesSkipped: (o, s, n) => {
        this.duplicatesSkipped += n;
        m.duplicatesSkipped(o, s, n);
      },
      windowIncomplete: (o, s) => {
        this.incompleteWindows++;
        m.windowIncomplete?.(o, s);
      },
    };
  }
}

export async function runStream(
  key: StreamKey,
  settings: StreamSettings,
  deps: StreamDeps,
  signal: AbortSignal | undefined,
): Promise<StreamResult> {
  const { logger, metrics } = deps;
  const labels = { org: key.org, service: key.service };
  const counts = new StreamCounts();
  let track: Track | undefined;
  let seen: SeenIds | undefined;
  const result = (status: StreamResult['status'], error?: Error): StreamResult => ({
    ...labels,
    status,
    ...(error ? { error } : {}),
    forwarded: counts.forwarded,
    duplicatesSkipped: counts.duplicatesSkipped,
    incompleteWindows: counts.incompleteWindows,
    ...(track ? { checkpoint: isoMillis(track.store.state.checkpoint) } : {}),
  });
  metrics.streamStarted(key.org, key.service);
  try {
    track = await openTrack(key, settings, deps, signal, (s) => (seen = s));
    metrics.checkpoint(key.org, key.service, track.store.state.checkpoint);
    const ctx = streamContext(track, settings, deps, counts.metrics(metrics));
    return result(await pollLoop(new Poller(ctx, track, settings, signal), settings, deps, signal));
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (signal?.aborted && isAbortError(error)) return result('stopped');
    logger.error({ ...labels, error: error.message, kind: error.name }, 'stream stopped');
    metrics.streamFailed(key.org, key.service, error.message);
    return result('failed', error);
  } finally {
    await seen?.close();
  }
}

function streamContext(
  track: Track,
  settings: StreamSettings,
  deps: StreamDeps,
  metrics: EngineMetrics,
): StreamContext {
  const writes = deps.oracle?.writes;
  return {
    key: track.key,
    tag: renderTag(settings.tag, track.key),
    di: deps.di,
    forward: deps.forward,
    seen: track.seen,
    logger: deps.logger,
    clock: deps.clock,
    wallClock: deps.wallClock,
    ...(writes ? { writes } : {}),
    overlapMs: settings.overlapMs,
    sendBatch: settings.sendBatch,
    pipelinePages: settings.pipelinePages,
    pipelineBytes: settings.pipelineBytes,
    seenCompactAt: Math.max(1, Math.floor(settings.maxSeenIds / 2)),
    metrics,
  };
}

/**
 * Polls until the signal (or, with --once, one pass): 'ok' or 'stopped'. A poll that failed on something retrying
 * can fix is tried again at the next interval (at once when Fluent Bit's connection closed within the settle time);
 * anything else is thrown.
 */
async function pollLoop(
  poller: Poller,
  s: StreamSettings,
  deps: StreamDeps,
  signal: AbortSignal | undefined,
): Promise<'ok' | 'stopped'> {
  const { logger, metrics, permits } = deps;
  const { key } = poller.ctx;
  const labels = { org: key.org, service: key.service };
  for (;;) {
    if (signal?.aborted) return 'stopped';
    try {
      await permits?.acquire();
      let completed: boolean;
      try {
        completed = await poller.poll();
      } finally {
        permits?.release();
      }
      if (!completed) return 'stopped';
    } catch (err) {
      if (errorCode(err) === 'FORWARD_UNSETTLED') {
        // Fluent Bit's connection closed right after it acked some events: they may not be stored. Nothing past
        // them was checkpointed or journaled, so polling again at once fetches and sends them again.
        logger.warn(
          { ...labels, error: (err as Error).message },
          "events acknowledged just before Fluent Bit's connection closed may not be stored: fetching them again " +
            'from the API',
        );
        metrics.unsettledRefetch?.(key.org, key.service);
        continue;
      }
      // A fault that outlived the client's retries: in a long-running collector, try again next interval. Errors
      // that retrying cannot fix (`fatal`: a refusal, a bad state file, a fatal forward error) stop the stream.
      if (s.once || signal?.aborted || isFatal(err)) throw err;
      logger.error(
        { ...labels, error: (err as Error).message, kind: (err as Error).name },
        'poll failed; retrying at the next interval (the checkpoint did not move)',
      );
    }
    if (s.once) return 'ok';
    await deps.clock.sleep(s.intervalMs, signal);
  }
}

/** One stream's polls: a window up to now − lag, or (a step of) a backfill. */
class Poller {
  /** By bucket start: the API's count when that bucket was last fetched (fetchByCounts). */
  private readonly fetchedAt: FetchMemo = { widthMs: 0, counts: new Map() };
  /** Whether the API answers /events/interval; when it does not, each poll re-fetches its whole overlap. */
  private byCounts: boolean;

  constructor(
    readonly ctx: StreamContext,
    private readonly track: Track,
    private readonly s: StreamSettings,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.byCounts = ctx.di.interval !== undefined;
  }

  /** False when it stopped on the signal. */
  async poll(): Promise<boolean> {
    const { ctx, s, signal } = this;
    const { store, seen, key } = this.track;
    const end = ctx.clock.now() - s.lagMs;
    const st = store.state;
    if (st.backfill || end - st.checkpoint > s.backfillThresholdMs) {
      return runBackfill(ctx, store, end, { slices: s.backfillSlices, progress: s.progress }, signal);
    }
    if (st.checkpoint >= end) {
      ctx.logger.debug(
        { org: key.org, service: key.service, checkpoint: isoMillis(st.checkpoint), end: isoMillis(end) },
        'nothing to collect yet: the checkpoint is not before now − lag',
      );
      return true;
    }
    const start = Math.max(st.checkpoint - s.overlapMs, st.since);
    let outcome:
      | { readonly aborted: boolean; readonly fetched: number; readonly forwarded: number; readonly duplicates: number }
      | undefined;
    if (this.byCounts) {
      outcome = await fetchByCounts(ctx, { start, end, checkpoint: st.checkpoint }, this.fetchedAt, signal);
      this.byCounts = outcome !== undefined;
    }
    outcome ??= (await fetchRangeChecked(ctx, { start, end, countFrom: st.checkpoint }, signal)).outcome;
    if (outcome.aborted) return false;
    await store.save({ ...store.state, checkpoint: end });
    await seen.compact((ts) => ts >= end - s.overlapMs);
    ctx.metrics.checkpoint(key.org, key.service, end);
    ctx.metrics.success(key.org, key.service);
    const { fetched, forwarded, duplicates } = outcome;
    s.pollLog?.completed({ key, fetched, forwarded, duplicates, checkpoint: end, lagMs: ctx.clock.now() - end });
    return true;
  }
}
