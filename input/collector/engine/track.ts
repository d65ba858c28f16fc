// What a stream keeps per (org, service): its delivery state (the ids in flight and delivered, and their journal)
// and its checkpoint, opened together because they must agree. Opening one decides what the last run had in flight
// at its stop (delivery's decideRestart) before anything is fetched. A stream polls one track today; a stream that
// serves several orgs of one service with one query would open one track per org and hand each event to its org's.
import { decideRestart, SeenIds, type RestartOracle } from '../delivery/index.js';
import type { EngineMetrics } from '../metrics.js';
import { resumeNotes } from '../state/resume-notes.js';
import { StateWriter, loadState, streamName, streamPaths, type StreamKey, type StreamState } from '../state/state.js';
import { StreamStore } from '../state/store.js';
import { isoMillis } from '../state/timestamp.js';
import type { Clock, Logger } from '../../types.js';

export interface Track {
  readonly key: StreamKey;
  readonly seen: SeenIds;
  readonly store: StreamStore;
}

export interface TrackSettings {
  readonly stateDir: string;
  readonly sinceMs: number;
  readonly sinceGiven?: boolean;
  readonly maxSeenIds: number;
}

export interface TrackDeps {
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly clock: Clock;
  /** --fluent-bit-http: decides the chunks the last run had in flight at its stop; journaling for the next. */
  readonly oracle?: RestartOracle;
}

/**
 * Opens the track of `key`: its journal (restart decided), then its state — a new stream starts at --since and
 * says so; a resumed one says what its state means (a --since it ignores, a checkpoint in the future). Returns
 * `seen` open even when the state cannot be read (the caller closes it).
 */
export async function openTrack(
  key: StreamKey,
  s: TrackSettings,
  deps: TrackDeps,
  signal: AbortSignal | undefined,
  opened: (seen: SeenIds) => void,
): Promise<Track> {
  const { logger, metrics, oracle } = deps;
  const labels = { org: key.org, service: key.service };
  const loaded = await loadState(s.stateDir, key);
  const paths = streamPaths(s.stateDir, key);
  const writer = new StateWriter(s.stateDir, key);
  const seen = await SeenIds.open(paths.journal, {
    maxIds: s.maxSeenIds,
    logger,
    stream: labels,
    journalAcks: oracle !== undefined,
    journalWrites: oracle?.writes !== undefined,
  });
  opened(seen);
  await decideRestart(seen, oracle, { logger, labels, ...(signal ? { signal } : {}) });
  const initial: StreamState = loaded ?? { ...labels, since: s.sinceMs, checkpoint: s.sinceMs };
  const store = new StreamStore(writer, seen, initial);
  if (!loaded) {
    await store.save(initial);
    logger.info(
      { ...labels, since: isoMillis(initial.since), state: paths.state },
      'new stream: collecting from --since',
    );
    return { key, seen, store };
  }
  logger.info(
    {
      ...labels,
      checkpoint: isoMillis(loaded.checkpoint),
      backfill: loaded.backfill !== undefined,
      knownIds: seen.size,
    },
    'resuming stream',
  );
  const notes = resumeNotes(loaded, {
    name: streamName(key),
    paths,
    now: deps.clock.now(),
    sinceMs: s.sinceMs,
    sinceGiven: s.sinceGiven === true,
  });
  if (notes.sinceIgnored !== undefined) logger.warn({ ...labels, state: paths.state }, notes.sinceIgnored);
  if (notes.futureCheckpoint) {
    logger.warn(
      { ...labels, state: paths.state, checkpoint: isoMillis(loaded.checkpoint) },
      notes.futureCheckpoint.message,
    );
    metrics.streamWaiting?.(key.org, key.service, notes.futureCheckpoint.reason);
  }
  return { key, seen, store };
}
