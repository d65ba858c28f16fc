// Scale benchmark: many orgs on one collector (an MSP), and a multi-stream backfill at full speed.
// - live: one run per item of BENCH_LIVE (ORGS:BATCH,…; default 1000:100,5000:100,1000:1,5000:1): ORGS orgs read
//   BATCH at a time (--org-batch-size; 1 is one request per org), each with the services BENCH_SIM_SERVICES
//   (directory,sso,systems) on a live simulator at BENCH_RATE (2) events/min per org and service (2 % indexed late),
//   collected with --services BENCH_SERVICES (all: the services check included) from --since BENCH_SINCE_MIN (120)
//   min, --lag BENCH_LAG_S (120) s, --interval BENCH_INTERVAL_S (30) s and the request budget BENCH_RPS (10, the
//   default; 0 = none), for BENCH_RUN_S (240) s. Printed against the targets: the first event forwarded (≤ 30 s
//   after the start), every org caught up from --since (≤ 120 s), the largest lag of any stream in the steady state
//   after it (≤ lag + 2 × interval), DI requests per poll of a batch and service in that steady state (≤ 3), peak
//   RSS (< 250 MB).
// - backfill: 2 services × --since 2d (BENCH_BACKFILL_PER_MIN events/min per stream, 10,000-event pages, 4 slices
//   each): events/s and peak RSS.
// BENCH_ONLY=live|backfill runs one. Every event is checked: none twice, and per stream every event before its
// checkpoint that was visible when that window ran arrived.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '../../input/simulator/server.js';
import type { CollectorConfig } from '../../input/types.js';
import { startForwardReceiver } from '../support/forward-receiver.js';
import { ENGINE, runChild, type ChildResult } from './collector.bench.js';
import { writeResult } from './result.js';

/** The live runs' memory target: peak RSS of the collector below it. */
const RSS_TARGET_MB = 250;

const MIN = 60_000;

/** Org ids as JumpCloud spells them (24 hex digits). */
export function orgIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `5f${(i + 1).toString(16).padStart(22, '0')}`);
}

/** API requests answered so far (every route and status but the token endpoint). */
function requestsSoFar(sim: Simulator): number {
  let n = 0;
  for (const [route, byStatus] of Object.entries(sim.stats.requests)) {
    if (route === '/oauth2/token') continue;
    for (const c of Object.values(byStatus)) n += c;
  }
  return n;
}

function baseConfig(
  sim: Simulator,
  port: number,
  dir: string,
): Omit<CollectorConfig, 'orgIds' | 'services' | 'sinceMs' | 'once'> {
  return {
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    pageLimit: 10_000,
    requestTimeoutMs: 60_000,
    forward: { kind: 'tcp', host: '127.0.0.1', port },
    tag: 'jumpcloud.{service}',
    stateDir: path.join(dir, 'state'),
    lagMs: 10_000,
    overlapMs: 60 * MIN,
    intervalMs: 30_000,
    backfillSlices: 4,
    maxSeenIds: 2_000_000,
    ackSettleMs: 500,
  };
}

/** The targets of the live run (lag: --lag + 2 × --interval). */
interface Targets {
  readonly firstEventS: number;
  readonly catchUpS: number;
  readonly lagS: number;
  readonly requestsPerPoll: number;
}

/** One live run: `orgs` orgs read `batch` at a time (--org-batch-size; 1 is one request per org). */
export interface LiveRun {
  readonly orgs: number;
  readonly batch: number;
}

/** BENCH_LIVE, `ORGS:BATCH,…`: the live runs, by default 1,000 and 5,000 orgs, batched and one org a request. */
export function liveRuns(spec = process.env.BENCH_LIVE ?? '1000:100,5000:100,1000:1,5000:1'): LiveRun[] {
  return spec.split(',').map((item) => {
    const m = /^(\d+):(\d+)$/.exec(item.trim());
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
      throw new Error(`BENCH_LIVE: "${item}" is not ORGS:BATCH (two positive integers), e.g. 1000:100`);
    return { orgs: Number(m[1]), batch: Number(m[2]) };
  });
}

/** The key prefix of a live run's figures: `live_<orgs>x<batch>_`. */
export const runKey = (r: LiveRun): string => `live_${r.orgs}x${r.batch}_`;

function liveSettings(run: LiveRun): {
  orgs: string[];
  simServices: string[];
  services: string[];
  runMs: number;
  rps: number;
  rate: number;
  sinceMs: number;
  lagMs: number;
  intervalMs: number;
  batch: number;
} {
  const env = process.env;
  return {
    orgs: orgIds(run.orgs),
    simServices: (env.BENCH_SIM_SERVICES ?? 'directory,sso,systems').split(','),
    services: (env.BENCH_SERVICES ?? 'all').split(','),
    runMs: Number(env.BENCH_RUN_S ?? 240) * 1000,
    rps: Number(env.BENCH_RPS ?? 10),
    rate: Number(env.BENCH_RATE ?? 2),
    sinceMs: Number(env.BENCH_SINCE_MIN ?? 120) * MIN,
    lagMs: Number(env.BENCH_LAG_S ?? 120) * 1000,
    intervalMs: Number(env.BENCH_INTERVAL_S ?? 30) * 1000,
    batch: run.batch,
  };
}

type Settings = ReturnType<typeof liveSettings>;

/** The collector's polling loop in its own process on `s`, into a live simulator and a forward receiver. */
async function live(run: LiveRun): Promise<Record<string, number>> {
  const s = liveSettings(run);
  const now = Date.now();
  const sim = await startSimulator({
    seed: 11,
    orgs: s.orgs,
    services: s.simServices,
    eventsPerMinute: s.rate,
    from: now - s.sinceMs - 10 * MIN,
    to: 'live',
  });
  const rx = await startForwardReceiver({ seed: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  try {
    const config: CollectorConfig = {
      ...baseConfig(sim, rx.port!, dir),
      orgIds: s.orgs,
      services: s.services,
      sinceMs: now - s.sinceMs,
      lagMs: s.lagMs,
      intervalMs: s.intervalMs,
      once: false,
      maxRequestsPerSecond: s.rps,
      orgBatchSize: s.batch,
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(
      path.join(dir, 'tuning.json'),
      JSON.stringify({
        progressLogEveryMs: 1e9,
        ...(process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : {}),
      }),
    );
    const r = await runChild(
      path.join(dir, 'config.json'),
      path.join(dir, 'tuning.json'),
      process.env.BENCH_CPU_PROF,
      s.runMs,
    );
    const withCheckpoint = checkDelivery(sim, rx.ids(), r, s, now);
    return liveFigures(sim, r, s, withCheckpoint);
  } finally {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * None twice, and per stream every event before its checkpoint that was visible when that window ran (checkpoint +
 * lag) arrived; later-indexed ones are the overlap's to catch on a later poll. Returns the streams with a checkpoint.
 */
function checkDelivery(sim: Simulator, got: string[], r: ChildResult, s: Settings, now: number): number {
  const checkpoints = r.checkpoints ?? {};
  const distinct = new Set(got);
  let missing = 0;
  let withCheckpoint = 0;
  for (const org of s.orgs)
    for (const service of s.services) {
      const c = checkpoints[`${org}/${service}`];
      if (c === undefined) continue;
      withCheckpoint++;
      const visible = { orgId: org, service, start: now - s.sinceMs, end: c - 1, visibleAt: c + s.lagMs };
      for (const e of sim.expectedEvents(visible)) if (!distinct.has(e.id)) missing++;
    }
  if (r.exitCode !== 0 || distinct.size !== got.length || missing > 0) {
    throw new Error(
      `live run failed: exit ${r.exitCode}, ${got.length - distinct.size} duplicates, ${missing} events before ` +
        `their stream's checkpoint missing`,
    );
  }
  return withCheckpoint;
}

/** A live run's figures, each target's verdict among them (`target_*`: 1 pass, 0 fail). */
function liveFigures(sim: Simulator, r: ChildResult, s: Settings, withCheckpoint: number): Record<string, number> {
  const requests = requestsSoFar(sim);
  // Polls of a batch and service: each completes one poll per org of the batch.
  const batchPolls = (r.steadyPolls ?? 0) / Math.min(s.batch, s.orgs.length);
  const seconds = (ms: number | undefined): number => Number(((ms ?? 0) / 1000).toFixed(1));
  const out: Record<string, number> = {
    orgs: s.orgs.length,
    streams: s.orgs.length * s.services.length,
    org_batch_size: s.batch,
    rps_budget: s.rps,
    streams_with_a_checkpoint: withCheckpoint,
    first_event_s: r.firstForwardedSeconds ?? -1,
    catch_up_s: r.catchUpSeconds ?? -1,
    steady_s: Number((r.steadySeconds ?? 0).toFixed(1)),
    steady_max_lag_s: r.catchUpSeconds && r.steadySeconds ? seconds(r.steadyMaxLagMs) : -1,
    steady_max_poll_gap_s: r.steadySeconds ? seconds(r.steadyMaxPollGapMs) : -1,
    steady_requests_per_batch_poll: batchPolls > 0 ? Number(((r.steadyRequests ?? 0) / batchPolls).toFixed(2)) : -1,
    requests_total: requests,
    polls_completed: r.polls ?? 0,
    requests_per_s_mean: Number((requests / r.seconds).toFixed(1)),
    peak_rss_mb: Math.round(r.maxRssMb),
    events_forwarded: r.forwarded,
    // The API cost of the whole run (catch-up included): events in /events answers per event forwarded.
    events_downloaded_per_forwarded: Number((sim.stats.events / Math.max(1, r.forwarded)).toFixed(3)),
    '429s': Object.values(sim.stats.requests).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0),
  };
  verdicts(out, { firstEventS: 30, catchUpS: 120, lagS: (s.lagMs + 2 * s.intervalMs) / 1000, requestsPerPoll: 3 });
  return out;
}

/** Pass (1) or fail (0) of each target, as `target_*` figures (a figure of -1: never reached, a fail). */
function verdicts(out: Record<string, number>, t: Targets): void {
  const within = (v: number | undefined, max: number): number => (v !== undefined && v >= 0 && v <= max ? 1 : 0);
  out[`target_first_event_le_${t.firstEventS}s`] = within(out['first_event_s'], t.firstEventS);
  out[`target_catch_up_le_${t.catchUpS}s`] = within(out['catch_up_s'], t.catchUpS);
  out[`target_steady_lag_le_${t.lagS}s`] = within(out['steady_max_lag_s'], t.lagS);
  out[`target_requests_per_batch_poll_le_${t.requestsPerPoll}`] = within(
    out['steady_requests_per_batch_poll'],
    t.requestsPerPoll,
  );
  out[`target_rss_lt_${RSS_TARGET_MB}mb`] = out['peak_rss_mb']! < RSS_TARGET_MB ? 1 : 0;
}

async function backfill(out: Record<string, number>): Promise<void> {
  const services = ['directory', 'sso'];
  const perMinute = Number(process.env.BENCH_BACKFILL_PER_MIN ?? 200);
  const now = Date.now();
  const to = now - 10 * MIN;
  const from = to - 2 * 24 * 60 * MIN;
  const sim = await startSimulator({
    seed: 12,
    services,
    eventsPerMinute: perMinute,
    from,
    to,
    indexDelay: { lateFraction: 0 },
  });
  const rx = await startForwardReceiver({ seed: 3 });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  try {
    const expected = new Set(
      services.flatMap((service) => sim.expectedEvents({ service, start: from, end: to + 1 }).map((e) => e.id)),
    );
    const config: CollectorConfig = {
      ...baseConfig(sim, rx.port!, dir),
      lagMs: 2 * MIN,
      orgIds: [],
      services,
      sinceMs: from,
      once: true,
      maxRequestsPerSecond: Number(process.env.BENCH_RPS ?? 0),
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(
      path.join(dir, 'tuning.json'),
      JSON.stringify({
        backfillThresholdMs: 1,
        progressLogEveryMs: 1e9,
        ...(process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : {}),
      }),
    );
    const r = await runChild(path.join(dir, 'config.json'), path.join(dir, 'tuning.json'), process.env.BENCH_CPU_PROF);
    const got = new Set(rx.ids());
    const missing = [...expected].filter((id) => !got.has(id)).length;
    if (r.exitCode !== 0 || missing > 0 || got.size !== expected.size) {
      throw new Error(
        `backfill run incomplete: exit ${r.exitCode}, ${missing} of ${expected.size} missing, ` +
          `${got.size} distinct received`,
      );
    }
    out['backfill_2x2d_events'] = expected.size;
    out['backfill_2x2d_events_per_s'] = Math.round(expected.size / r.seconds);
    out['backfill_2x2d_peak_rss_mb'] = Math.round(r.maxRssMb);
  } finally {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = { collector_engine_compiled: ENGINE.compiled ? 1 : 0 };
  if (process.env.BENCH_ONLY !== 'backfill')
    for (const run of liveRuns()) for (const [k, v] of Object.entries(await live(run))) out[runKey(run) + k] = v;
  if (process.env.BENCH_ONLY !== 'live') await backfill(out);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) {
    console.log(`${k.padEnd(44)} ${k.startsWith('target_') ? (v ? 'pass' : 'FAIL') : v}`);
  }
  writeResult(r);
}
