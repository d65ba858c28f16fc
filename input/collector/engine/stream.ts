// One stream: one service of a batch of orgs (--org-batch-size), of the single org of a plain API key, or of a
// provider's Multi-Tenant Portal (--provider-id). Each org has its own track (journal and state: track.ts); the orgs
// are polled in cohorts (cohort.ts), one query each, every interval. A query refused for one of its orgs (402 not
// licensed, 403 not accessible), or holding an event of none of them, is split in halves, down to one org: the refused
// org stops (reported as a refused stream of its own) and the others go on; an org whose events do not carry its id is
// queried alone from then on.
import type { Clock, CollectorConfig, DiClient, ForwardClient, Logger } from '../../types.js';
import { DiFatalError } from '../../di/errors.js';
import { errorCode, isAbortError, isFatal } from '../../errors.js';
import type { RestartOracle, SeenIds } from '../delivery/index.js';
import type { StreamContext } from '../fetch/range.js';
import { Routes, UnroutedEventError } from '../fetch/routes.js';
import type { EngineMetrics } from '../metrics.js';
import type { StreamKey } from '../state/state.js';
import { isoMillis } from '../state/timestamp.js';
import { CohortStore, cohortKey, newMemo, pollCohort, type CohortMemo } from './cohort.js';
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
  /** Taken for each poll of a cohort (window or backfill) so that at most N queries fetch at once. */
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
  /**
   * How the services check rewrites an org's queries (services.ts): orgs with different plans are never in one
   * query. Undefined: no rewrite.
   */
  readonly queryPlan?: (key: StreamKey) => string;
}

/** What a stream serves: one service of some orgs ([''] : no x-org-id), or of a provider's portal. */
export interface StreamSpec {
  readonly service: string;
  readonly orgs: readonly string[];
  /** A provider's Multi-Tenant-Portal events (x-provider-id): `orgs` is its one key, providerKey(id). */
  readonly provider?: string;
}

/** The key (state directory, metrics label) of provider `id`'s stream: `provider.<id>` (no org id has a dot). */
export function providerKey(id: string): string {
  return `provider.${id}`;
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

/**
 * `config.tag` with `{service}` and `{org}` replaced (`{org}` is empty without an org id). A provider's stream:
 * `provider.<id>` takes the place of `{org}`, or of `{service}` when the template has no `{org}`, so its tag always
 * names the provider (`jumpcloud.provider.<id>` with the default template).
 */
export function renderTag(template: string, key: StreamKey, provider?: string): string {
  if (provider !== undefined) {
    const who = providerKey(provider);
    return template.includes('{org}')
      ? template.replaceAll('{org}', who).replaceAll('{service}', key.service)
      : template.replaceAll('{service}', who);
  }
  return template.replaceAll('{service}', key.service).replaceAll('{org}', key.org);
}

/** One org of the stream: its track, what it reports, and how it ended. */
interface Member {
  readonly key: StreamKey;
  readonly forwardedBy: { forwarded: number; duplicatesSkipped: number; incompleteWindows: number };
  track?: Track;
  seen?: SeenIds;
  status: 'running' | StreamResult['status'];
  error?: Error;
  /** Its events do not say it is theirs (an event of a query of it and others was not routable): queried alone. */
  solo: boolean;
}

/** How a cohort's poll ended. */
type PollEnd = 'ok' | 'stopped' | 'retry' | 'failed' | { readonly split: readonly Member[][] };

export async function runStream(
  spec: StreamSpec,
  settings: StreamSettings,
  deps: StreamDeps,
  signal: AbortSignal | undefined,
): Promise<StreamResult[]> {
  const run = new StreamRun(spec, settings, deps, signal);
  try {
    await run.open();
    await run.loop();
  } finally {
    await run.close();
  }
  return run.results();
}

class StreamRun {
  private readonly members: Member[];
  private readonly byOrg: Map<string, Member>;
  /** The engine's metrics, counting each org's part into its member as they go. */
  private readonly metrics: EngineMetrics;
  /** By cohort (its orgs): what it remembers between polls. Only the cohorts of the last round are kept. */
  private memos = new Map<string, CohortMemo>();

  constructor(
    private readonly spec: StreamSpec,
    private readonly s: StreamSettings,
    private readonly deps: StreamDeps,
    private readonly signal: AbortSignal | undefined,
  ) {
    const orgs = [...new Set(spec.orgs)];
    this.members = orgs.map((org) => ({
      key: { org, service: spec.service },
      forwardedBy: { forwarded: 0, duplicatesSkipped: 0, incompleteWindows: 0 },
      status: 'running',
      solo: false,
    }));
    this.byOrg = new Map(this.members.map((m) => [m.key.org, m]));
    this.metrics = countingMetrics(deps.metrics, (org) => this.byOrg.get(org ?? '')?.forwardedBy);
  }

  /** Opens every org's track (journal, restart decision, state); an org whose track cannot be opened fails alone. */
  async open(): Promise<void> {
    for (const m of this.members) this.deps.metrics.streamStarted(m.key.org, m.key.service);
    await Promise.all(
      this.members.map(async (m) => {
        try {
          m.track = await openTrack(m.key, this.s, this.deps, this.signal, (seen) => (m.seen = seen));
          this.deps.metrics.checkpoint(m.key.org, m.key.service, m.track.store.state.checkpoint);
        } catch (err) {
          if (this.signal?.aborted && isAbortError(err)) m.status = 'stopped';
          else this.end([m], err);
        }
      }),
    );
  }

  /** Polls every interval until the signal (or, with --once, one pass); a member that fails leaves. */
  async loop(): Promise<void> {
    for (;;) {
      if (this.signal?.aborted) return this.stopAll();
      const completed = await this.round(this.deps.clock.now() - this.s.lagMs);
      if (!completed) return this.stopAll();
      if (this.s.once) {
        for (const m of this.running()) m.status = 'ok';
        return;
      }
      if (this.running().length === 0) return;
      try {
        await this.deps.clock.sleep(this.s.intervalMs, this.signal);
      } catch (err) {
        if (!this.signal?.aborted) throw err;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.seen?.close()));
  }

  results(): StreamResult[] {
    return this.members.map((m) => ({
      ...m.key,
      status: m.status === 'running' ? 'stopped' : m.status,
      ...(m.error ? { error: m.error } : {}),
      ...m.forwardedBy,
      ...(m.track ? { checkpoint: isoMillis(m.track.store.state.checkpoint) } : {}),
    }));
  }

  private running(): Member[] {
    return this.members.filter((m) => m.status === 'running');
  }

  private stopAll(): void {
    for (const m of this.running()) m.status = 'stopped';
  }

  /** One poll of every cohort up to `end`; false when the signal stopped it. */
  private async round(end: number): Promise<boolean> {
    const queue = this.cohorts();
    const memos = new Map<string, CohortMemo>();
    while (queue.length > 0) {
      const group = queue.shift()!;
      const result = await this.pollGroup(group, end, memos);
      if (result === 'stopped') return false;
      if (typeof result === 'object') queue.unshift(...result.split);
    }
    this.memos = memos;
    return true;
  }

  /** The running orgs grouped by what their queries read (cohortKey); solo orgs alone. */
  private cohorts(): Member[][] {
    const groups = new Map<string, Member[]>();
    const out: Member[][] = [];
    for (const m of this.running()) {
      if (m.solo) {
        out.push([m]);
        continue;
      }
      const key = cohortKey(m.track!.store.state, this.s.overlapMs, this.deps.queryPlan?.(m.key) ?? '');
      const g = groups.get(key);
      if (g) g.push(m);
      else groups.set(key, [m]);
    }
    return [...groups.values(), ...out];
  }

  /**
   * Polls one cohort (retried at once when Fluent Bit's connection closed within the settle time). A refusal of one
   * of several orgs, or an event of none of them, splits it in halves, polled next; anything retrying cannot fix
   * (or any failure with --once) ends its orgs; anything else is tried again at the next interval.
   */
  private async pollGroup(group: Member[], end: number, memos: Map<string, CohortMemo>): Promise<PollEnd> {
    const { deps, signal } = this;
    const ctx = this.context(group);
    const id = group.map((m) => m.key.org).join(',');
    const memo = memos.get(id) ?? this.memos.get(id) ?? newMemo(ctx);
    memos.set(id, memo);
    for (;;) {
      try {
        await deps.permits?.acquire();
        let completed: boolean;
        try {
          completed = await pollCohort(ctx, new CohortStore(group.map((m) => m.track!)), memo, this.s, end, signal);
        } finally {
          deps.permits?.release();
        }
        return completed ? 'ok' : 'stopped';
      } catch (err) {
        if (errorCode(err) === 'FORWARD_UNSETTLED') {
          this.unsettled(ctx, err as Error);
          continue;
        }
        return this.failed(group, ctx, err);
      }
    }
  }

  private failed(group: Member[], ctx: StreamContext, err: unknown): PollEnd {
    const { logger } = this.deps;
    const labels = ctx.routes.labels;
    if (this.signal?.aborted && isAbortError(err)) return 'stopped';
    if (group.length > 1 && splits(err)) return { split: this.split(group, ctx, err as Error) };
    // A fault that outlived the client's retries: in a long-running collector, try again next interval. Errors
    // that retrying cannot fix (`fatal`: a refusal, a bad state file, a fatal forward error) stop the orgs.
    if (this.s.once || this.signal?.aborted || isFatal(err)) {
      this.end(group, err);
      return 'failed';
    }
    logger.error(
      { ...labels, error: (err as Error).message, kind: (err as Error).name },
      'poll failed; retrying at the next interval (the checkpoint did not move)',
    );
    return 'retry';
  }

  /** The halves of a cohort one query cannot serve; orgs of an unroutable pair are queried alone from now on. */
  private split(group: Member[], ctx: StreamContext, err: Error): Member[][] {
    const unrouted = err instanceof UnroutedEventError;
    this.deps.logger.warn(
      { ...ctx.routes.labels, orgs: group.length, error: err.message },
      unrouted
        ? 'an event of none of the queried orgs: querying them in halves to tell whose it is'
        : 'the API refused one of the queried orgs: querying them in halves to find it (the others go on)',
    );
    const half = Math.ceil(group.length / 2);
    const halves = [group.slice(0, half), group.slice(half)];
    // An org left alone by such a split may be the one whose events do not carry its id: queried alone from now on
    // (re-merged, the event would split its query again every poll). One more request per poll each.
    const alone = unrouted ? halves.filter((h) => h.length === 1).map((h) => h[0]!) : [];
    for (const m of alone) m.solo = true;
    if (alone.length > 0) {
      this.deps.logger.warn(
        {
          orgs: alone.map((m) => m.key.org),
          service: this.spec.service,
          organization: (err as UnroutedEventError).organization,
        },
        'an org whose events may not carry its id in "organization": queried alone from now on',
      );
    }
    return halves;
  }

  /** Fluent Bit's connection closed right after it acked some events: they may not be stored. */
  private unsettled(ctx: StreamContext, err: Error): void {
    // Nothing past them was checkpointed or journaled, so polling again at once fetches and sends them again.
    this.deps.logger.warn(
      { ...ctx.routes.labels, error: err.message },
      "events acknowledged just before Fluent Bit's connection closed may not be stored: fetching them again " +
        'from the API',
    );
    ctx.routes.each((org) => this.deps.metrics.unsettledRefetch?.(org, this.spec.service));
  }

  /** The orgs stop for good: logged and reported per org, as a stream of its own would be. */
  private end(group: Member[], err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const m of group) {
      m.status = 'failed';
      m.error = error;
      this.deps.logger.error({ ...m.key, error: error.message, kind: error.name }, 'stream stopped');
      this.deps.metrics.streamFailed(m.key.org, m.key.service, error.message);
    }
  }

  private context(group: readonly Member[]): StreamContext {
    const { s, deps, spec } = this;
    const routes = new Routes(
      spec.service,
      group.map((m) => ({ org: m.key.org, seen: m.track!.seen, tag: renderTag(s.tag, m.key, spec.provider) })),
      spec.provider,
    );
    const writes = deps.oracle?.writes;
    return {
      routes,
      di: deps.di,
      forward: deps.forward,
      logger: deps.logger,
      clock: deps.clock,
      wallClock: deps.wallClock,
      ...(writes ? { writes } : {}),
      overlapMs: s.overlapMs,
      sendBatch: s.sendBatch,
      pipelinePages: s.pipelinePages,
      pipelineBytes: s.pipelineBytes,
      seenCompactAt: Math.max(1, Math.floor(s.maxSeenIds / 2)),
      metrics: this.metrics,
    };
  }
}

/** Whether one query of several orgs failed for one of them: split it to find which. */
function splits(err: unknown): boolean {
  if (err instanceof UnroutedEventError) return true;
  return err instanceof DiFatalError && (err.status === 402 || err.status === 403);
}

/** The engine's metrics, each org's counts also added to what `of(org)` returns (its result). */
function countingMetrics(
  m: EngineMetrics,
  of: (
    org: string | undefined,
  ) => { forwarded: number; duplicatesSkipped: number; incompleteWindows: number } | undefined,
): EngineMetrics {
  return {
    checkpoint: (o, s, ms) => m.checkpoint(o, s, ms),
    success: (o, s, at) => m.success(o, s, at),
    streamFailed: (o, s, r) => m.streamFailed(o, s, r),
    streamStarted: (o, s) => m.streamStarted(o, s),
    completenessRefetch: (o, s) => m.completenessRefetch(o, s),
    eventsFetched: (o, s, n) => m.eventsFetched?.(o, s, n),
    unsettledRefetch: (o, s) => m.unsettledRefetch?.(o, s),
    eventsForwarded: (o, s, n) => {
      const c = of(o);
      if (c) c.forwarded += n;
      m.eventsForwarded(o, s, n);
    },
    duplicatesSkipped: (o, s, n) => {
      const c = of(o);
      if (c) c.duplicatesSkipped += n;
      m.duplicatesSkipped(o, s, n);
    },
    windowIncomplete: (o, s) => {
      const c = of(o);
      if (c) c.incompleteWindows++;
      m.windowIncomplete?.(o, s);
    },
  };
}
