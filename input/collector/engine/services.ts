// Completeness across services: `service: ["all"]` is reported to leave some services out (Elastic's integration,
// issue 18542: password_manager), and JumpCloud adds services several times a year. With --services all (the
// default) the collector checks, at start and every --services-check, which services `all` misses, and collects
// them too, without a configuration change and without repeats.
//
// The check (services-check.ts; a few requests per batch of orgs, not per org): the service names the API accepts
// (its 400 answer to an unknown name lists them), `/events/distinct` on field `service` for every accepted name
// (events per service), and the same for `all` (what `all` returns, per service), over the time since the last
// check. A service with fewer events of an org through `all` than by name is missed for that org.
//
// Collecting a missed service s without repeats: from a handover instant B (persisted), the `all` stream's query
// names s too (`service: ["all", "s"]`: the API answers the union, each event once), so when `all` later starts
// returning s itself nothing changes and nothing repeats. Events of s before B come from a catch-up stream of
// its own (org, s) that starts where the check window started and whose queries end before B; it retires once its
// checkpoint is an overlap past B (nothing before B can still be re-scanned). Every event of s thus has one owner
// by its timestamp: before B the catch-up stream, from B on the `all` stream. B is the check's clock time: every
// `all` query issued before it ends at most at now − lag, so none of them covered time from B on. A query of `all`
// that spans B is split there (events are served in time order, so its pages stay in order), and its part before
// B drops s's events (and counts without them), in case `all` started returning s within that overlap (the query
// rewrite: fetch/service-queries.ts). On a fresh
// state directory (no `all` stream yet), B is --since: no catch-up stream, the union from the first query.
// The orgs of a batch are queried together only when their queries are rewritten alike (queryPlan), and the
// catch-up streams of orgs that missed a service at the same check run as one batch stream.
import type { Clock, DiClient, DiQuery, Logger } from '../../types.js';
import { ServiceQueries, type Handover } from '../fetch/service-queries.js';
import type { EngineMetrics, ServiceCoverageEntry } from '../metrics.js';
import { loadCoverage, saveCoverage, type CoverageFile, type MissedService } from '../state/services-coverage.js';
import { loadState, type StreamKey } from '../state/state.js';
import { isoMillis, parseIsoMillis } from '../state/timestamp.js';
import { acceptedServices, checkBatch, type CheckWindow, type OrgVerdict } from './services-check.js';
import type { StreamResult } from './stream.js';

export type { CoverageReason, ServiceCoverageEntry } from '../metrics.js';

const RETENTION_MS = 90 * 86_400_000;
/** Batches checked at once (their requests still take their turns in the request budget). */
const CHECK_CONCURRENCY = 4;

export { parseServiceList } from './services-check.js';

/** One org's coverage: its file, and what the checks keep in memory. */
interface OrgCoverage extends CoverageFile {
  viaAll: string[];
  /**
   * The names the API listed at the last check (undefined: not learned): a missed one it no longer accepts leaves the
   * query.
   */
  accepted?: readonly string[];
  /** The missed services' catch-up streams running (one batch stream may serve several orgs). */
  readonly running: Map<string, CatchUp>;
}

/** A catch-up stream: one missed service of the orgs that missed it at the same check (same since and handover). */
interface CatchUp {
  readonly service: string;
  readonly orgs: readonly OrgCoverage[];
  readonly stop: AbortController;
  done: Promise<StreamResult[]>;
  ended: boolean;
}

export interface ServiceCoverageOptions {
  readonly stateDir: string;
  /** Orgs of the `all` streams ('' for no x-org-id). */
  readonly orgs: readonly string[];
  /** Orgs checked (and caught up) together: --org-batch-size. */
  readonly batchSize: number;
  readonly sinceMs: number;
  readonly lagMs: number;
  readonly overlapMs: number;
  readonly intervalMs: number;
  /** Time between checks (clock time). */
  readonly checkEveryMs: number;
  readonly once: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
}

/** Runs a catch-up stream of `service` for `orgs` from `sinceMs` until the signal aborts (or its end with --once). */
export type StartStream = (
  orgs: readonly string[],
  service: string,
  sinceMs: number,
  signal: AbortSignal,
) => Promise<StreamResult[]>;

export class ServiceCoverage {
  private readonly orgs = new Map<string, OrgCoverage>();
  private readonly queries = new ServiceQueries((query) => this.missedOf(query));
  private readonly catchUps = new Set<CatchUp>();
  /** Per org: its first check is done (its stream waits for it). */
  private readonly firstChecks = new Map<string, { done: Promise<void>; resolve: () => void }>();

  constructor(private readonly opts: ServiceCoverageOptions) {
    for (const org of opts.orgs)
      this.orgs.set(org, { ...loadCoverage(opts.stateDir, org), viaAll: [], running: new Map() });
  }

  /** The DI client the streams use: `all` queries name the missed services, catch-up queries end before B. */
  wrap(inner: DiClient): DiClient {
    return this.queries.wrap(inner);
  }

  /**
   * How the queries of `key`'s org are rewritten (its missed services and their handovers): orgs with different
   * plans are never queried together.
   */
  queryPlan(key: StreamKey): string {
    return JSON.stringify(this.planOf(key.org).map((m) => [m.service, m.handover]));
  }

  /** What is collected and why, for /healthz and the logs. */
  entries(): ServiceCoverageEntry[] {
    const out: ServiceCoverageEntry[] = [];
    for (const c of this.orgs.values()) {
      out.push({ org: c.org, service: 'all', reason: 'configured' });
      for (const s of [...c.viaAll].sort())
        if (!c.missed.has(s)) out.push({ org: c.org, service: s, reason: 'via_all' });
      for (const m of c.missed.values()) {
        const handover = isoMillis(m.handover);
        out.push({ org: c.org, service: m.service, reason: 'missed_by_all', handover, catchingUp: !m.retired });
      }
    }
    return out;
  }

  /**
   * The first check of every org, before its stream queries (ready()): on a fresh state directory the missed
   * services then join `all`'s query from its first page. A failed check is logged and tried again at the next one.
   */
  async prepare(di: DiClient, signal: AbortSignal): Promise<void> {
    try {
      await this.checkAll(di, signal);
    } finally {
      for (const d of this.firstChecks.values()) d.resolve();
    }
  }

  /** Resolves once the first check of `orgs` is done (or failed, or the run stopped): their stream may query. */
  ready(orgs: readonly string[]): Promise<void> {
    return Promise.all(orgs.map((o) => this.firstCheck(o).done)).then(() => undefined);
  }

  private firstCheck(org: string): { done: Promise<void>; resolve: () => void } {
    let d = this.firstChecks.get(org);
    if (!d) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      d = { done, resolve };
      this.firstChecks.set(org, d);
    }
    return d;
  }

  /**
   * Runs the catch-up streams and, without --once, the periodic checks, until `signal` aborts. Resolves with the
   * catch-up streams' results (a retired one reports `ok`).
   */
  async run(di: DiClient, startStream: StartStream, signal: AbortSignal): Promise<StreamResult[]> {
    const results: StreamResult[] = [];
    this.launch(startStream, signal);
    this.report();
    if (this.opts.once) {
      await Promise.all([...this.catchUps].map((r) => r.done));
      await this.settle(results);
      return results;
    }
    const { clock, intervalMs, checkEveryMs } = this.opts;
    let nextCheck = clock.now() + checkEveryMs;
    while (!signal.aborted) {
      await clock.sleep(Math.min(intervalMs, checkEveryMs), signal);
      if (signal.aborted) break;
      await this.settle(results);
      if (clock.now() >= nextCheck) {
        nextCheck = clock.now() + checkEveryMs;
        await this.checkAll(di, signal);
        this.launch(startStream, signal);
        this.report();
      }
    }
    for (const r of this.catchUps) results.push(...(await r.done));
    this.catchUps.clear();
    for (const c of this.orgs.values()) c.running.clear();
    return results;
  }

  /**
   * Starts the catch-up streams of the missed services not retired and not running: the orgs that missed a service
   * at the same check (same since and handover) in batches of --org-batch-size.
   */
  private launch(startStream: StartStream, signal: AbortSignal): void {
    const groups = new Map<string, { m: MissedService; orgs: OrgCoverage[] }>();
    for (const c of this.orgs.values()) {
      for (const m of c.missed.values()) {
        if (m.retired || c.running.has(m.service) || signal.aborted) continue;
        const key = JSON.stringify([m.service, m.since, m.handover]);
        const g = groups.get(key);
        if (g) g.orgs.push(c);
        else groups.set(key, { m, orgs: [c] });
      }
    }
    for (const { m, orgs } of groups.values()) {
      for (let i = 0; i < orgs.length; i += this.opts.batchSize) {
        this.start(startStream, m, orgs.slice(i, i + this.opts.batchSize), signal);
      }
    }
  }

  private start(startStream: StartStream, m: MissedService, orgs: OrgCoverage[], signal: AbortSignal): void {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.opts.logger.info(
      { orgs: orgs.map((c) => c.org), service: m.service, since: isoMillis(m.since), handover: isoMillis(m.handover) },
      'service missed by "all": catch-up stream started (events before the handover; from it on, the "all" ' +
        'query names the service)',
    );
    const run: CatchUp = { service: m.service, orgs, stop, ended: false, done: Promise.resolve([]) };
    run.done = startStream(
      orgs.map((c) => c.org),
      m.service,
      m.since,
      stop.signal,
    ).finally(() => {
      run.ended = true;
      signal.removeEventListener('abort', onAbort);
    });
    for (const c of orgs) c.running.set(m.service, run);
    this.catchUps.add(run);
  }

  /** Retires the catch-up streams whose every org reached the handover; collects those that ended on their own. */
  private async settle(results: StreamResult[]): Promise<void> {
    for (const r of [...this.catchUps]) {
      const caughtUp = (await Promise.all(r.orgs.map((c) => this.caughtUp(c.org, c.missed.get(r.service)!)))).every(
        Boolean,
      );
      if (!caughtUp && !r.ended) continue;
      this.catchUps.delete(r);
      for (const c of r.orgs) c.running.delete(r.service);
      if (!caughtUp) {
        // Ended before the handover (--once, a failure): its state resumes it on the next start.
        results.push(...(await r.done));
        continue;
      }
      r.stop.abort();
      for (const result of await r.done) {
        const c = this.orgs.get(result.org)!;
        const m = c.missed.get(r.service)!;
        m.retired = true;
        await saveCoverage(this.opts.stateDir, c);
        this.opts.metrics.streamRetired?.(c.org || undefined, r.service);
        this.opts.logger.info(
          { org: c.org, service: r.service, handover: isoMillis(m.handover), forwarded: result.forwarded },
          'catch-up stream retired: the "all" stream owns the service from the handover on',
        );
        results.push(result.status === 'failed' ? result : { ...result, status: 'ok' });
      }
      this.report();
    }
  }

  // ------------------------------------------------------------------ the check

  /**
   * Checks every org, in batches of orgs whose windows start alike (a few requests per batch: services-check.ts),
   * CHECK_CONCURRENCY batches at a time, in order: each batch's stream may start as soon as its check is done. A
   * batch whose check fails is logged and checked again at the next check.
   */
  private async checkAll(di: DiClient, signal: AbortSignal): Promise<void> {
    const { clock, lagMs, batchSize } = this.opts;
    if (!di.distinct) throw new Error('the DI client has no /events/distinct');
    const now = clock.now();
    const end = now - lagMs;
    const byStart = new Map<number, { c: OrgCoverage; fresh: boolean }[]>();
    for (const c of this.orgs.values()) {
      const { start, fresh } = await this.windowStart(c, now).catch((err: unknown) => {
        // The `all` stream's state cannot be read: its stream says so and stops; nothing to check.
        this.opts.logger.warn({ org: c.org, error: (err as Error).message }, 'services check skipped for this org');
        return { start: end, fresh: false };
      });
      if (start >= end) {
        this.firstCheck(c.org).resolve();
        continue;
      }
      const list = byStart.get(start);
      if (list) list.push({ c, fresh });
      else byStart.set(start, [{ c, fresh }]);
    }
    const batches: { start: number; batch: { c: OrgCoverage; fresh: boolean }[] }[] = [];
    for (const [start, list] of byStart) {
      for (let i = 0; i < list.length; i += batchSize) batches.push({ start, batch: list.slice(i, i + batchSize) });
    }
    let accepted: Promise<{ names: string[]; fromApi: boolean }> | undefined;
    const worker = async (): Promise<void> => {
      for (let next = batches.shift(); next && !signal.aborted; next = batches.shift()) {
        const { start, batch } = next;
        const window = { start: isoMillis(start), end: isoMillis(end) };
        const orgs = batch.map((b) => b.c.org);
        try {
          accepted ??= acceptedServices(di, window, orgs, this.opts.logger, signal);
          await this.checkOne(di, batch, window, await accepted, { now, end }, signal);
        } catch (err) {
          if (signal.aborted) return;
          this.opts.logger.warn(
            { orgs, error: (err as Error).message, nextCheckInMs: this.opts.checkEveryMs },
            'could not check which services "all" misses: collecting what is known so far; trying again at the ' +
              'next check',
          );
        } finally {
          for (const o of orgs) this.firstCheck(o).resolve();
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, batches.length) }, worker));
  }

  /** Where an org's check window starts: since the last check; the first one covers what `all` has collected. */
  private async windowStart(c: OrgCoverage, now: number): Promise<{ start: number; fresh: boolean }> {
    const allState =
      c.checkedUntil === undefined ? await loadState(this.opts.stateDir, { org: c.org, service: 'all' }) : undefined;
    const fresh = c.checkedUntil === undefined && allState === undefined;
    const from = c.checkedUntil ?? allState?.since ?? this.opts.sinceMs;
    return { start: Math.max(from, now - RETENTION_MS + 60_000), fresh };
  }

  private async checkOne(
    di: DiClient,
    batch: readonly { c: OrgCoverage; fresh: boolean }[],
    window: CheckWindow,
    accepted: { names: string[]; fromApi: boolean },
    at: { now: number; end: number },
    signal: AbortSignal,
  ): Promise<void> {
    const verdicts = await checkBatch(
      di,
      batch.map((b) => b.c.org),
      window,
      accepted.names,
      signal,
    );
    const missedNow = new Set<string>();
    for (const { c, fresh } of batch) {
      const v = verdicts.get(c.org);
      if (v === undefined) continue;
      if ('refused' in v) {
        this.opts.logger.warn(
          { org: c.org, error: v.refused.message },
          'could not check which services "all" misses for this org: the API refused it (its stream says so)',
        );
        continue;
      }
      if (accepted.fromApi) this.accept(c, accepted.names);
      this.apply(c, v, fresh, at.now, window);
      for (const m of c.missed.keys()) missedNow.add(m);
      c.checkedUntil = at.end;
      // Persisted before any query names the new services (the file is what a restart resumes from).
      await saveCoverage(this.opts.stateDir, c);
    }
    this.opts.logger.info(
      { orgs: batch.length, missedByAll: [...missedNow].sort(), window },
      'services check: the services "all" misses are named in its query (missedByAll)',
    );
  }

  /** The names the API accepts now: a missed one it no longer accepts leaves the query (a 400 would stop it). */
  private accept(c: OrgCoverage, names: readonly string[]): void {
    c.accepted = names;
    for (const m of c.missed.values()) {
      if (!names.includes(m.service))
        this.opts.logger.warn(
          { org: c.org, service: m.service },
          'the API no longer accepts this service: it leaves the "all" query (a 400 would stop the stream)',
        );
    }
  }

  /** An org's verdict into its coverage: newly missed services (from `now`, or --since when fresh), seen again. */
  private apply(c: OrgCoverage, v: OrgVerdict, fresh: boolean, now: number, window: CheckWindow): void {
    const { logger } = this.opts;
    c.viaAll = [...v.viaAll];
    for (const service of v.viaAll) {
      const known = c.missed.get(service);
      if (known && !known.viaAll)
        logger.info({ org: c.org, service }, 'service is now returned by "all" (it stays named in the "all" query)');
      if (known) known.viaAll = true;
    }
    for (const { service, missing } of v.missed) {
      const known = c.missed.get(service);
      if (known) {
        known.viaAll = false;
        continue;
      }
      // Fresh: the `all` stream has not queried yet, so the union covers everything from --since.
      const handover = fresh ? this.opts.sinceMs : now;
      const since = parseIsoMillis(window.start);
      c.missed.set(service, { service, found: now, since, handover, retired: fresh, viaAll: false });
      logger.warn(
        { org: c.org, service, missingThroughAll: missing, window },
        'service missed by "all": collecting it too',
      );
    }
  }

  private async caughtUp(org: string, m: MissedService): Promise<boolean> {
    const st = await loadState(this.opts.stateDir, { org, service: m.service }).catch(() => undefined);
    return st !== undefined && !st.backfill && st.checkpoint - this.opts.overlapMs >= m.handover;
  }

  private report(): void {
    this.opts.metrics.servicesCollected?.(this.entries());
  }

  /** The services an org's queries name (missed by `all`, still accepted), with their handovers. */
  private planOf(org: string): MissedService[] {
    const c = this.orgs.get(org);
    if (!c) return [];
    const accepted = c.accepted;
    return [...c.missed.values()].filter((m) => accepted === undefined || accepted.includes(m.service));
  }

  /**
   * The rewrite of a query: that of its orgs, which agree (the engine queries together only orgs of one plan). One
   * that changed between a poll's start and this query (a check ran meanwhile) fails the poll, polled again.
   */
  private missedOf(query: DiQuery): Handover[] {
    if (query.providerId !== undefined) return [];
    const orgs = query.orgIds?.length ? query.orgIds : [''];
    const plan = this.planOf(orgs[0]!);
    const sig = JSON.stringify(plan.map((m) => [m.service, m.handover]));
    for (const org of orgs.slice(1)) {
      if (JSON.stringify(this.planOf(org).map((m) => [m.service, m.handover])) !== sig) {
        throw new Error(
          `the services check changed what the query of ${orgs.length} orgs must name while it ran: polling again`,
        );
      }
    }
    return plan;
  }
}
