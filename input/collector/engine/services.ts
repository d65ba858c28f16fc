// Completeness across services: `service: ["all"]` is reported to leave some services out (Elastic's integration,
// issue 18542: password_manager), and JumpCloud adds services several times a year. With --services all (the
// default) the collector checks, at start and every --services-check, which services `all` misses, and collects
// them too, without a configuration change and without repeats.
//
// The check (3 requests per org): the service names the API accepts (its 400 answer to an unknown name lists
// them), `/events/distinct` on field `service` for every accepted name (events per service), and the same for
// `all` (what `all` returns, per service), over the time since the last check. A service with fewer events through
// `all` than by name is missed.
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
import type { Clock, DiClient, DiQuery, Logger } from '../../types.js';
import { ServiceQueries } from '../fetch/service-queries.js';
import type { EngineMetrics, ServiceCoverageEntry } from '../metrics.js';
import { loadCoverage, saveCoverage, type CoverageFile, type MissedService } from '../state/services-coverage.js';
import { loadState, type StreamKey } from '../state/state.js';
import { isoMillis } from '../state/timestamp.js';
import type { StreamResult } from './stream.js';

export type { CoverageReason, ServiceCoverageEntry } from '../metrics.js';

/** The accepted names as of the OpenAPI spec: used only when the API's 400 answer cannot be read. */
const KNOWN_SERVICES = [
  'alerts',
  'directory',
  'ldap',
  'mdm',
  'notifications',
  'object_storage',
  'password_manager',
  'password_vault',
  'radius',
  'reports',
  'saas_app_management',
  'software',
  'sso',
  'systems',
  'access_management',
  'asset_management',
  'workflows',
  'genai',
  'aigw',
  'ai_admin',
  'generic_di',
] as const;

/** A name no API accepts: its 400 lists the valid ones. */
const PROBE_SERVICE = 'fluent_bit_jumpcloud_unknown_service';
const RETENTION_MS = 90 * 86_400_000;

/** The service names in the API's 400 answer to an unknown service ("… valid services are: a, b, c"). */
export function parseServiceList(message: string): string[] {
  // A bracketed list if there is one, else what follows the last colon.
  const bracketed = /\[([^\]]*)\]\s*$/.exec(message.trim())?.[1];
  const colon = message.lastIndexOf(':');
  if (bracketed === undefined && colon < 0) return [];
  const tail = bracketed ?? message.slice(colon + 1);
  const names = tail.split(/[\s,;[\]"'`]+/).filter((n) => /^[a-z][a-z0-9_]*$/.test(n) && n !== 'all');
  return [...new Set(names)];
}

/** One org's coverage: its file, and what the checks and the catch-up streams keep in memory. */
interface OrgCoverage extends CoverageFile {
  viaAll: string[];
  /**
   * The names the API listed at the last check (undefined: not learned): a missed one it no longer accepts leaves the
   * query.
   */
  accepted?: readonly string[];
  /** The last check's result as logged (a line at info only when it changes). */
  lastSummary?: string;
  /** Catch-up streams running: their stop controllers and results. */
  readonly running: Map<string, CatchUp>;
}

interface CatchUp {
  readonly stop: AbortController;
  done: Promise<StreamResult>;
  ended: boolean;
}

export interface ServiceCoverageOptions {
  readonly stateDir: string;
  /** Orgs of the `all` streams ('' for no x-org-id). */
  readonly orgs: readonly string[];
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

/** Runs a catch-up stream of `key` from `sinceMs` until the signal aborts (or to its end with --once). */
export type StartStream = (key: StreamKey, sinceMs: number, signal: AbortSignal) => Promise<StreamResult>;

export class ServiceCoverage {
  private readonly orgs = new Map<string, OrgCoverage>();
  private readonly queries = new ServiceQueries((query) => this.missedOf(query));

  constructor(private readonly opts: ServiceCoverageOptions) {
    for (const org of opts.orgs)
      this.orgs.set(org, { ...loadCoverage(opts.stateDir, org), viaAll: [], running: new Map() });
  }

  /** The DI client the streams use: `all` queries name the missed services, catch-up queries end before B. */
  wrap(inner: DiClient): DiClient {
    return this.queries.wrap(inner);
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
   * The first check of every org, before any stream queries: on a fresh state directory the missed services
   * then join `all`'s query from its first page. A failed check is logged and tried again at the next one.
   */
  async prepare(di: DiClient, signal: AbortSignal): Promise<void> {
    for (const c of this.orgs.values()) await this.checkSafely(di, c, signal);
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
      for (const c of this.orgs.values()) await Promise.all([...c.running.values()].map((r) => r.done));
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
        for (const c of this.orgs.values()) await this.checkSafely(di, c, signal);
        this.launch(startStream, signal);
        this.report();
      }
    }
    for (const c of this.orgs.values()) {
      for (const r of c.running.values()) results.push(await r.done);
      c.running.clear();
    }
    return results;
  }

  /** Starts the catch-up stream of every missed service not retired and not running. */
  private launch(startStream: StartStream, signal: AbortSignal): void {
    for (const c of this.orgs.values()) {
      for (const m of c.missed.values()) {
        if (m.retired || c.running.has(m.service) || signal.aborted) continue;
        const stop = new AbortController();
        const onAbort = (): void => stop.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        this.opts.logger.info(
          { org: c.org, service: m.service, since: isoMillis(m.since), handover: isoMillis(m.handover) },
          'service missed by "all": catch-up stream started (events before the handover; from it on, the "all" ' +
            'query names the service)',
        );
        const run: CatchUp = { stop, ended: false, done: undefined as unknown as Promise<StreamResult> };
        run.done = startStream({ org: c.org, service: m.service }, m.since, stop.signal).finally(() => {
          run.ended = true;
          signal.removeEventListener('abort', onAbort);
        });
        c.running.set(m.service, run);
      }
    }
  }

  /** Retires the catch-up streams that reached the handover; collects those that ended on their own. */
  private async settle(results: StreamResult[]): Promise<void> {
    for (const c of this.orgs.values()) {
      for (const [service, r] of c.running) {
        const m = c.missed.get(service)!;
        if (await this.caughtUp(c.org, m)) {
          r.stop.abort();
          const result = await r.done;
          c.running.delete(service);
          m.retired = true;
          await saveCoverage(this.opts.stateDir, c);
          this.opts.metrics.streamRetired?.(c.org || undefined, service);
          this.opts.logger.info(
            { org: c.org, service, handover: isoMillis(m.handover), forwarded: result.forwarded },
            'catch-up stream retired: the "all" stream owns the service from the handover on',
          );
          results.push(result.status === 'failed' ? result : { ...result, status: 'ok' });
          this.report();
        } else if (r.ended) {
          // Ended before the handover (--once, a failure): its state resumes it on the next start.
          c.running.delete(service);
          results.push(await r.done);
        }
      }
    }
  }

  // ------------------------------------------------------------------ the check

  private async checkSafely(di: DiClient, c: OrgCoverage, signal: AbortSignal): Promise<void> {
    try {
      await this.check(di, c, signal);
    } catch (err) {
      if (signal.aborted) return;
      this.opts.logger.warn(
        { org: c.org, error: (err as Error).message, nextCheckInMs: this.opts.checkEveryMs },
        'could not check which services "all" misses: collecting what is known so far; trying again at the next check',
      );
    }
  }

  private async check(di: DiClient, c: OrgCoverage, signal: AbortSignal): Promise<void> {
    const { clock, lagMs, logger } = this.opts;
    if (!di.distinct) throw new Error('the DI client has no /events/distinct');
    const now = clock.now();
    const end = now - lagMs;
    const allState =
      c.checkedUntil === undefined ? await loadState(this.opts.stateDir, { org: c.org, service: 'all' }) : undefined;
    const fresh = c.checkedUntil === undefined && allState === undefined;
    // Since the last check; the first one covers what the `all` stream has collected (or will: --since).
    const start = Math.max(c.checkedUntil ?? allState?.since ?? this.opts.sinceMs, now - RETENTION_MS + 60_000);
    if (start >= end) return;
    const window = { start: isoMillis(start), end: isoMillis(end), ...(c.org !== '' ? { orgId: c.org } : {}) };
    const { names, fromApi } = await this.acceptedServices(di, window, signal);
    if (fromApi) {
      c.accepted = names;
      for (const m of c.missed.values()) {
        if (!names.includes(m.service))
          logger.warn(
            { org: c.org, service: m.service },
            'the API no longer accepts this service: it leaves the "all" query (a 400 would stop the stream)',
          );
      }
    }
    const [byName, throughAll] = await Promise.all([
      di.distinct({ ...window, service: names[0]!, alsoServices: names.slice(1) }, 'service', signal),
      di.distinct({ ...window, service: 'all' }, 'service', signal),
    ]);
    const viaAll = new Map(throughAll.map((b) => [b.key, b.count]));
    const found: string[] = [];
    c.viaAll = [];
    for (const { key, count } of byName) {
      if (count <= 0) continue;
      const seen = viaAll.get(key) ?? 0;
      const known = c.missed.get(key);
      if (seen >= count) {
        c.viaAll.push(key);
        if (known && !known.viaAll)
          logger.info(
            { org: c.org, service: key },
            'service is now returned by "all" (it stays named in the "all" query: nothing repeats)',
          );
        if (known) known.viaAll = true;
        continue;
      }
      if (known) {
        known.viaAll = false;
        continue;
      }
      // Fresh: the `all` stream has not queried yet, so the union covers everything from --since.
      const handover = fresh ? this.opts.sinceMs : now;
      c.missed.set(key, { service: key, found: now, since: start, handover, retired: fresh, viaAll: false });
      found.push(key);
      logger.warn(
        { org: c.org, service: key, events: count, throughAll: seen, window },
        'service missed by "all": collecting it too',
      );
    }
    c.checkedUntil = end;
    // Persisted before any query names the new services (the file is what a restart resumes from).
    await saveCoverage(this.opts.stateDir, c);
    const summary = JSON.stringify([[...c.missed.keys()].sort(), [...c.viaAll].sort()]);
    const changed = summary !== c.lastSummary;
    c.lastSummary = summary;
    (changed ? logger.info : logger.debug).call(
      logger,
      { org: c.org, missedByAll: [...c.missed.keys()], viaAll: [...c.viaAll].sort(), window },
      'services check: collected through "all" (viaAll), and named in its query (missedByAll)',
    );
  }

  /** The names the API accepts, from its 400 answer to an unknown one (the OpenAPI list when unreadable). */
  private async acceptedServices(
    di: DiClient,
    window: Omit<DiQuery, 'service'>,
    signal: AbortSignal,
  ): Promise<{ names: string[]; fromApi: boolean }> {
    try {
      await di.count({ ...window, service: PROBE_SERVICE }, signal);
    } catch (err) {
      const e = err as { status?: number; apiMessage?: string };
      if (signal.aborted) throw err;
      if (e.status === 400 && e.apiMessage) {
        const names = parseServiceList(e.apiMessage);
        // Taken as the list only when it names services we know (not some other sentence).
        if (names.filter((n) => (KNOWN_SERVICES as readonly string[]).includes(n)).length >= 2)
          return { names, fromApi: true };
      }
      this.opts.logger.debug(
        { error: (err as Error).message },
        'the API did not list its services: using the known list',
      );
      return { names: [...KNOWN_SERVICES], fromApi: false };
    }
    this.opts.logger.warn({ probe: PROBE_SERVICE }, 'the API accepted an unknown service name: using the known list');
    return { names: [...KNOWN_SERVICES], fromApi: false };
  }

  private async caughtUp(org: string, m: MissedService): Promise<boolean> {
    const st = await loadState(this.opts.stateDir, { org, service: m.service }).catch(() => undefined);
    return st !== undefined && !st.backfill && st.checkpoint - this.opts.overlapMs >= m.handover;
  }

  private report(): void {
    this.opts.metrics.servicesCollected?.(this.entries());
  }

  private missedOf(query: DiQuery): MissedService[] {
    const c = this.orgs.get(query.orgId ?? '');
    if (!c) return [];
    const accepted = c.accepted;
    return [...c.missed.values()].filter((m) => accepted === undefined || accepted.includes(m.service));
  }
}
