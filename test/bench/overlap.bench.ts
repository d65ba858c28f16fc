// Overlap cost benchmark: in steady live mode, how many events the collector downloads per event
// it forwards, and how many API requests it makes per poll per stream. Default overlap (1 h), interval (1 m) and
// lag (2 m); the simulator indexes 2 % of events late (5 s to 30 min). An accelerated clock (60×) shared by the
// simulator and the in-process engine; steady state is measured after the first polls (the first one fetches the
// hour before the start). Three modes in the same run: `counts` (/events/interval, then one /events query for the
// differing buckets, their ranges OR-ed in search_term), `counts_no_search_term` (the same against a simulator
// that ignores search_term: one query per part) and `rescan` (the DI client without /events/interval: every poll
// re-fetches its whole overlap as a collector without counts does).
// `run()` returns the numbers; `node --import tsx test/bench/overlap.bench.ts` prints them.
// Knobs (env): BENCH_OVERLAP_RATES=0.5,5,20 (events/s per stream), BENCH_OVERLAP_MINUTES=30 (measured, virtual).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatClockSpec, parseClockSpec } from '../../input/clock.js';
import { createDiClient } from '../../input/di/client.js';
import { runCollector } from '../../input/collector/engine/run.js';
import { noMetrics, type EngineMetrics } from '../../input/collector/metrics.js';
import { startSimulator } from '../../input/simulator/server.js';
import type { CollectorConfig, DiClient, Logger } from '../../input/types.js';
import { startForwardReceiver } from '../support/forward-receiver.js';
import { writeResult } from './result.js';

const MIN = 60_000;
const SPEED = 60;

export interface OverlapCost {
  readonly streams: number;
  readonly polls: number;
  readonly downloaded: number;
  readonly forwarded: number;
  readonly requests: number;
  readonly missing: number;
  /** The collector's warnings (messages). */
  readonly warnings: readonly string[];
}

/** Steady-state cost of `minutes` (virtual) of live collection of `streams` streams at `rate` events/s each. */
export async function overlapCost(opts: {
  mode: 'counts' | 'rescan';
  streams: number;
  rate: number;
  minutes: number;
  warmupMinutes?: number;
  /** The simulator's handling of search_term (default: applied, as documented). */
  searchTerm?: 'apply' | 'ignore' | 'refuse' | 'fail';
}): Promise<OverlapCost> {
  const V = Date.parse('2026-03-01T12:00:00Z');
  const clock = parseClockSpec(formatClockSpec(V, Date.now(), SPEED));
  const orgs = Array.from({ length: opts.streams }, (_, i) => (0x5f0c1a2b3c4d + i).toString(16).padStart(24, '0'));
  const since = V - 60 * MIN;
  const sim = await startSimulator({
    seed: 5,
    clock,
    orgs,
    services: ['directory'],
    eventsPerMinute: opts.rate * 60,
    from: since,
    to: 'live',
    indexDelay: { lateFraction: 0.02 },
    ...(opts.searchTerm ? { searchTerm: opts.searchTerm } : {}),
  });
  const rx = await startForwardReceiver({ seed: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-overlap-'));
  // Completed polls per org (the engine's success metric: one per org and poll, whether batched or not).
  const polls = new Map<string, number>();
  const metrics: EngineMetrics = {
    ...noMetrics,
    success: (org) => void polls.set(org ?? '', (polls.get(org ?? '') ?? 0) + 1),
  };
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (_o, m) => warnings.push(String(m)),
    error: (o, m) => console.error(m, o),
  };
  const config: CollectorConfig = {
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    orgIds: orgs,
    services: ['all'],
    pageLimit: 10_000,
    requestTimeoutMs: 60_000,
    forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
    tag: 'jumpcloud.{service}',
    stateDir: path.join(dir, 'state'),
    sinceMs: since,
    lagMs: 2 * MIN,
    overlapMs: 60 * MIN,
    intervalMs: MIN,
    once: false,
    backfillSlices: 1,
    maxSeenIds: 2_000_000,
    ackSettleMs: 0,
  };
  // counts: the engine's own DI client, as the CLI runs it (through the services check's wrapper). rescan: a client
  // without /events/interval (the engine then re-fetches the whole overlap each poll).
  const real = createDiClient({
    apiUrl: config.apiUrl,
    auth: config.auth,
    pageLimit: config.pageLimit,
    requestTimeoutMs: 60_000,
    clock,
    logger,
  });
  const rescan: DiClient = {
    pages: (q, s) => real.pages(q, s),
    count: (q, s) => real.count(q, s),
    close: () => real.close(),
  };
  const stop = new AbortController();
  const running = runCollector(config, {
    logger,
    metrics,
    clock,
    signal: stop.signal,
    ...(opts.mode === 'rescan' ? { diClient: rescan } : {}),
    tuning: { backfillThresholdMs: 365 * 24 * 60 * MIN },
  });
  const totalRequests = (): number =>
    Object.values(sim.stats.requests).reduce(
      (n, byStatus) => n + Object.values(byStatus ?? {}).reduce((a, b) => a + (b ?? 0), 0),
      0,
    );
  const sleepVirtual = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms / SPEED));
  try {
    // Steady state: every stream past its first two polls (the first fetched the hour before the start).
    for (let waited = 0; orgs.some((o) => (polls.get(o) ?? 0) < 2); waited += 100) {
      if (waited > 300_000)
        throw new Error(`overlap bench (${opts.mode}): streams did not complete two polls in 5 min`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await sleepVirtual((opts.warmupMinutes ?? 2) * MIN);
    const at0 = {
      downloaded: sim.stats.events,
      forwarded: rx.records.length,
      requests: totalRequests(),
      polls: [...polls.values()].reduce((a, b) => a + b, 0),
    };
    await sleepVirtual(opts.minutes * MIN);
    const at1 = {
      downloaded: sim.stats.events,
      forwarded: rx.records.length,
      requests: totalRequests(),
      polls: [...polls.values()].reduce((a, b) => a + b, 0),
    };
    // Two more polls per stream, so that every event visible 10 virtual minutes ago has had its poll.
    const seenPolls = new Map(polls);
    const checkBefore = clock.now() - 40 * MIN;
    for (let waited = 0; orgs.some((o) => (polls.get(o) ?? 0) < (seenPolls.get(o) ?? 0) + 2); waited += 100) {
      if (waited > 300_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    stop.abort();
    await running;
    // Everything visible up to now − lag must have arrived, exactly once.
    const ids = new Set(rx.ids());
    const missing = orgs.reduce(
      (n, orgId) =>
        n +
        sim
          .expectedEvents({ orgId, service: 'directory', start: since, end: checkBefore })
          .filter((e) => !ids.has(e.id)).length,
      0,
    );
    if (ids.size !== rx.records.length)
      throw new Error(`overlap bench (${opts.mode}): ${rx.records.length - ids.size} events forwarded twice`);
    return {
      streams: opts.streams,
      polls: at1.polls - at0.polls,
      downloaded: at1.downloaded - at0.downloaded,
      forwarded: at1.forwarded - at0.forwarded,
      requests: at1.requests - at0.requests,
      missing,
      warnings,
    };
  } finally {
    stop.abort();
    await running.catch(() => undefined);
    await real.close();
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const minutes = Number(process.env.BENCH_OVERLAP_MINUTES ?? 30);
  for (const rate of (process.env.BENCH_OVERLAP_RATES ?? '0.5,5,20').split(',').map(Number)) {
    // About the same number of events per run at each rate.
    const streams = Math.max(1, Math.round(2 / rate));
    // counts_no_search_term: an API (or proxy) that ignores search_term, so each part is its own query.
    for (const run of [
      { mode: 'rescan' },
      { mode: 'counts', searchTerm: 'ignore', name: 'counts_no_search_term' },
      { mode: 'counts' },
    ] as const) {
      const { mode } = run;
      const c = await overlapCost({
        mode,
        streams,
        rate,
        minutes,
        ...('searchTerm' in run ? { searchTerm: run.searchTerm } : {}),
      });
      if (c.missing > 0 && mode === 'counts')
        throw new Error(`overlap bench (${mode}, ${rate}/s): ${c.missing} events older than 40 min never arrived`);
      const tag = `overlap_${rate}_per_s_${'name' in run ? run.name : mode}`;
      out[`${tag}_downloaded_per_forwarded`] = Number((c.downloaded / Math.max(1, c.forwarded)).toFixed(3));
      out[`${tag}_requests_per_poll_per_stream`] = Number((c.requests / Math.max(1, c.polls)).toFixed(2));
      out[`${tag}_forwarded`] = c.forwarded;
      out[`${tag}_polls`] = c.polls;
      out[`${tag}_missing`] = c.missing;
    }
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(56)} ${v}`);
  writeResult(r);
}
