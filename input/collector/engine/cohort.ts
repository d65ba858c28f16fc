// Orgs polled with one query: a cohort. A stream serves a batch of orgs of one service (stream.ts); each org keeps its
// own track (journal, checkpoint, restart decision: track.ts). The orgs whose states agree on what a poll reads — the
// window's start and checkpoint, the backfill under way — and whose queries read alike (the services check's plan)
// are polled together, as if they were one stream: one state for the poll, saved into every org's state file (each
// keeps its own `since`), and the query's events routed to each org's delivery state (fetch/routes.ts). Every
// guarantee of a single-org stream thus holds per org: a poll moves an org's checkpoint only once every event of
// that org before it was delivered, and its overlap counts compare the API's counts for the cohort with the ids
// forwarded over the cohort's orgs. Orgs whose states differ (one added later starts at --since; a kill between two
// state writes) are polled apart, and rejoin once a poll has brought them to the same checkpoint (every cohort of a
// round polls up to the same end).
import { fetchRangeChecked } from '../fetch/checked.js';
import { fetchByCounts, type FetchMemo } from '../fetch/overlap-counts.js';
import type { StreamContext } from '../fetch/range.js';
import type { StreamState } from '../state/state.js';
import type { StateStore } from '../state/store.js';
import { isoMillis } from '../state/timestamp.js';
import { runBackfill } from './backfill.js';
import type { PollLog } from './poll-log.js';
import type { BackfillBoard } from './progress.js';
import type { Track } from './track.js';

/** What a poll needs of the stream's settings (stream.ts's StreamSettings). */
export interface PollSettings {
  readonly overlapMs: number;
  readonly backfillThresholdMs: number;
  readonly backfillSlices: number;
  readonly progress: BackfillBoard;
  readonly pollLog?: PollLog;
}

/**
 * Which orgs may share a query: the same window start (max(checkpoint − overlap, since)), checkpoint and backfill,
 * and the same query plan (`plan`: the services check's rewrite of their queries; '' for none).
 */
export function cohortKey(state: StreamState, overlapMs: number, plan: string): string {
  const start = Math.max(state.checkpoint - overlapMs, state.since);
  return JSON.stringify([start, state.checkpoint, state.backfill ?? null, plan]);
}

/** The state of a cohort's orgs: one for the poll, saved into each org's store (each with its own `since`). */
export class CohortStore implements StateStore {
  private current: StreamState;

  constructor(private readonly tracks: readonly Track[]) {
    // Their states agree but for `since` (cohortKey): the latest since gives the same window start for all.
    const first = tracks[0]!.store.state;
    const since = Math.max(...tracks.map((t) => t.store.state.since));
    this.current = { ...first, since };
  }

  get state(): StreamState {
    return this.current;
  }

  async save(next: StreamState): Promise<void> {
    this.current = next;
    await Promise.all(
      this.tracks.map((t) =>
        t.store.save({ ...next, org: t.key.org, service: t.key.service, since: t.store.state.since }),
      ),
    );
  }
}

/** What a cohort remembers between polls while its orgs stay the same (in memory). */
export interface CohortMemo {
  /** By bucket start: the API's count when that bucket was last fetched (fetchByCounts). */
  readonly fetchedAt: FetchMemo;
  /** Whether the API answers /events/interval; when it does not, each poll re-fetches its whole overlap. */
  byCounts: boolean;
}

export function newMemo(ctx: StreamContext): CohortMemo {
  return { fetchedAt: { widthMs: 0, counts: new Map() }, byCounts: ctx.di.interval !== undefined };
}

/**
 * One poll of a cohort up to `end`: a window [checkpoint − overlap, end) — or (a step of) a backfill — then the
 * checkpoint of every org moves to `end`. False when it stopped on the signal.
 */
export async function pollCohort(
  ctx: StreamContext,
  store: CohortStore,
  memo: CohortMemo,
  s: PollSettings,
  end: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { routes } = ctx;
  const st = store.state;
  if (st.backfill || end - st.checkpoint > s.backfillThresholdMs) {
    return runBackfill(ctx, store, end, { slices: s.backfillSlices, progress: s.progress }, signal);
  }
  if (st.checkpoint >= end) {
    ctx.logger.debug(
      { ...routes.labels, checkpoint: isoMillis(st.checkpoint), end: isoMillis(end) },
      'nothing to collect yet: the checkpoint is not before now − lag',
    );
    return true;
  }
  const start = Math.max(st.checkpoint - s.overlapMs, st.since);
  let outcome:
    | { readonly aborted: boolean; readonly fetched: number; readonly forwarded: number; readonly duplicates: number }
    | undefined;
  if (memo.byCounts) {
    outcome = await fetchByCounts(ctx, { start, end, checkpoint: st.checkpoint }, memo.fetchedAt, signal);
    memo.byCounts = outcome !== undefined;
  }
  outcome ??= (await fetchRangeChecked(ctx, { start, end, countFrom: st.checkpoint }, signal)).outcome;
  if (outcome.aborted) return false;
  await store.save({ ...store.state, checkpoint: end });
  await routes.compact((ts) => ts >= end - s.overlapMs);
  routes.each((org) => {
    ctx.metrics.checkpoint(org, routes.service, end);
    ctx.metrics.success(org, routes.service);
  });
  const { fetched, forwarded, duplicates } = outcome;
  const key = { org: routes.labels.org, service: routes.service };
  const orgs = routes.orgs.length;
  s.pollLog?.completed({ key, orgs, fetched, forwarded, duplicates, checkpoint: end, lagMs: ctx.clock.now() - end });
  return true;
}
