import type { CollectorConfig } from '../../types.js';
// One stream (org × service): load its state, then poll windows [checkpoint − overlap, now − lag) — or backfill a
// long gap in slices — advancing the checkpoint only after every event before it was acked.
import type { Clock, DiClient, ForwardClient, Logger } from '../../types.js';
import { errorCode, isAbortError, isFatal } from '../../errors.js';
import { runBackfill } from './backfill.js';
import { confirmUnsettledAcks, type FluentBitUptime } from '../oracle/uptime.js';
import type { EngineMetrics } from '../metrics.js';
import type { PollLog } from './poll-log.js';
import type { BackfillBoard } from './progress.js';
import { SeenIds } from '../delivery/seen-ids.js';
import type { SendLedger } from '../oracle/send-ledger.js';
import { StateWriter, loadState, streamName, streamPaths, type StreamKey, type StreamState } from '../state/state.js';
import type { Semaphore } from './semaphore.js';
import { StreamStore } from '../state/store.js';
import { resumeNotes } from '../state/resume-notes.js';
import { isoMillis } from '../state/timestamp.js';
import { fetchByCounts, type FetchMemo } from '../fetch/overlap-counts.js';
import { fetchRangeChecked, type StreamContext } from '../fetch/range.js';

/** The stream's part of the configuration, plus the engine's tuning. */
export interface StreamSettings extends Pick<CollectorConfig,
  'stateDir' | 'tag' | 'sinceMs' | 'sinceGiven' | 'lagMs' | 'overlapMs' | 'intervalMs' | 'once' | 'backfillSlices' | 'maxSeenIds' | 'ackSettleMs'> {
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
  /** Fluent Bit's uptime (--fluent-bit-http): confirms at start the acks that had not settled at the last stop. */
  readonly uptime?: FluentBitUptime;
  /** The forward ledger (--fluent-bit-http): decides the chunks written and not settled at the last stop. */
  readonly ledger?: SendLedger;
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

export async function runStream(key: StreamKey, settings: StreamSettings, deps: StreamDeps, signal: AbortSignal | undefined): Promise<StreamResult> {
  const { logger, metrics, clock } = deps;
  const labels = { org: key.org, service: key.service };
  let forwarded = 0, duplicatesSkipped = 0, incompleteWindows = 0;
  let store: StreamStore | undefined;
  let seen: SeenIds | undefined;
  const result = (status: StreamResult['status'], error?: Error): StreamResult => ({
    ...labels,
    status,
    ...(error ? { error } : {}),
    forwarded,
    duplicatesSkipped,
    incompleteWindows,
    ...(store ? { checkpoint: isoMillis(store.state.checkpoint) } : {}),
  });
  metrics.streamStarted(key.org, key.service);
  try {
    const loaded = await loadState(settings.stateDir, key);
    const paths = streamPaths(settings.stateDir, key);
    const writer = new StateWriter(settings.stateDir, key);
    const ledger = deps.ledger;
    seen = await SeenIds.open(paths.journal, { maxIds: settings.maxSeenIds, logger, stream: labels, journalAcks: deps.uptime !== undefined, journalWrites: ledger !== undefined });
    // Chunks written and not settled at the last stop: the ledger knows which Fluent Bit stored (Fluent Bit ran on
    // and its input's counter adds up); the others are sent again.
    if (seen.unsettledWrites > 0) {
      const w = seen.decideWrites((seq) => ledger?.delivered(seq));
      if (w.stored + w.notStored > 0) logger.info({ ...labels, stored: w.stored, resent: w.notStored, undecided: w.undecided }, 'events written to Fluent Bit just before the collector stopped: those its input counted as stored are not sent again, the others are');
    }
    // Acked chunks whose ack had not settled at the last stop: stored (Fluent Bit ran on) or to be sent again.
    await confirmUnsettledAcks(seen, { uptime: deps.uptime, settleMs: settings.ackSettleMs, logger, labels, ...(signal ? { signal } : {}) });
    const initial: StreamState = loaded ?? { org: key.org, service: key.service, since: settings.sinceMs, checkpoint: settings.sinceMs };
    store = new StreamStore(writer, seen, initial);
    if (!loaded) {
      await store.save(initial);
      logger.info({ ...labels, since: isoMillis(initial.since), state: paths.state }, 'new stream: collecting from --since');
    } else {
      logger.info({ ...labels, checkpoint: isoMillis(loaded.checkpoint), backfill: loaded.backfill !== undefined, knownIds: seen.size }, 'resuming stream');
      const notes = resumeNotes(loaded, { name: streamName(key), paths, now: clock.now(), sinceMs: settings.sinceMs, sinceGiven: settings.sinceGiven === true });
      if (notes.sinceIgnored !== undefined) logger.warn({ ...labels, state: paths.state }, notes.sinceIgnored);
      if (notes.futureCheckpoint) {
        logger.warn({ ...labels, state: paths.state, checkpoint: isoMillis(loaded.checkpoint) }, notes.futureCheckpoint.message);
        metrics.streamWaiting?.(key.org, key.service, notes.futureCheckpoint.reason);
      }
    }
    metrics.checkpoint(key.org, key.service, store.state.checkpoint);
    const ctx: StreamContext = {
      key,
      tag: renderTag(settings.tag, key),
      di: deps.di,
      forward: deps.forward,
      seen,
      logger,
      clock,
      ...(ledger ? { writes: ledger } : {}),
      overlapMs: settings.overlapMs,
      sendBatch: settings.sendBatch,
      pipelinePages: settings.pipelinePages,
      pipelineBytes: settings.pipelineBytes,
      seenCompactAt: Math.max(1, Math.floor(settings.maxSeenIds / 2)),
      metrics: {
        checkpoint: (o, s, ms) => metrics.checkpoint(o, s, ms),
        success: (o, s, at) => metrics.success(o, s, at),
        streamFailed: (o, s, r) => metrics.streamFailed(o, s, r),
        streamStarted: (o, s) => metrics.streamStarted(o, s),
        completenessRefetch: (o, s) => metrics.completenessRefetch(o, s),
        eventsForwarded: (o, s, n) => {
          forwarded += n;
          metrics.eventsForwarded(o, s, n);
        },
        duplicatesSkipped: (o, s, n) => {
          duplicatesSkipped += n;
          metrics.duplicatesSkipped(o, s, n);
        },
        windowIncomplete: (o, s) => {
          incompleteWindows++;
          metrics.windowIncomplete?.(o, s);
        },
      },
    };

    /** By bucket start: the API's count when that bucket was last fetched (fetchByCounts). */
    const fetchedAt: FetchMemo = { widthMs: 0, counts: new Map() };
    /** Whether the API answers /events/interval; when it does not, each poll re-fetches its whole overlap. */
    let byCounts = deps.di.interval !== undefined;

    /** One poll: a window, or (a step of) a backfill. False when it stopped on the signal. */
    const poll = async (): Promise<boolean> => {
      const end = clock.now() - settings.lagMs;
      const st = store!.state;
      if (st.backfill || end - st.checkpoint > settings.backfillThresholdMs) {
        return runBackfill(ctx, store!, end, { slices: settings.backfillSlices, progress: settings.progress }, signal);
      }
      if (st.checkpoint >= end) {
        logger.debug({ ...labels, checkpoint: isoMillis(st.checkpoint), end: isoMillis(end) }, 'nothing to collect yet: the checkpoint is not before now − lag');
        return true;
      }
      const start = Math.max(st.checkpoint - settings.overlapMs, st.since);
      let outcome: { readonly aborted: boolean; readonly fetched: number; readonly forwarded: number; readonly duplicates: number } | undefined;
      if (byCounts) {
        outcome = await fetchByCounts(ctx, { start, end, checkpoint: st.checkpoint }, fetchedAt, signal);
        byCounts = outcome !== undefined;
      }
      outcome ??= (await fetchRangeChecked(ctx, { start, end, countFrom: st.checkpoint }, signal)).outcome;
      if (outcome.aborted) return false;
      await store!.save({ ...store!.state, checkpoint: end });
      await seen!.compact((ts) => ts >= end - settings.overlapMs);
      metrics.checkpoint(key.org, key.service, end);
      metrics.success(key.org, key.service);
      settings.pollLog?.completed({ key, fetched: outcome.fetched, forwarded: outcome.forwarded, duplicates: outcome.duplicates, checkpoint: end, lagMs: clock.now() - end });
      return true;
    };

    for (;;) {
      if (signal?.aborted) return result('stopped');
      try {
        await deps.permits?.acquire();
        let completed: boolean;
        try {
          completed = await poll();
        } finally {
          deps.permits?.release();
        }
        if (!completed) return result('stopped');
      } catch (err) {
        if (errorCode(err) === 'FORWARD_UNSETTLED') {
          // Fluent Bit's connection closed right after it acked some events: they may not be stored. Nothing past
          // them was checkpointed or journaled, so polling again at once fetches and sends them again.
          logger.warn({ ...labels, error: (err as Error).message }, 'events acknowledged just before Fluent Bit\'s connection closed may not be stored: fetching them again from the API');
          metrics.unsettledRefetch?.(key.org, key.service);
          continue;
        }
        // A fault that outlived the client's retries: in a long-running collector, try again next interval.
        // Errors that retrying cannot fix (`fatal`: a refusal, a bad state file, a fatal forward error) stop the stream.
        if (settings.once || signal?.aborted || isFatal(err)) throw err;
        logger.error({ ...labels, error: (err as Error).message, kind: (err as Error).name }, 'poll failed; retrying at the next interval (the checkpoint did not move)');
      }
      if (settings.once) return result('ok');
      await clock.sleep(settings.intervalMs, signal);
    }
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
