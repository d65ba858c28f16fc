// Scale benchmark (issue 11): many orgs on one collector, and a multi-stream backfill at full speed.
// - live: BENCH_ORGS (1000) orgs × BENCH_SERVICES (directory) against a live simulator (1.2 events/min per stream,
//   2 % indexed late), the collector's polling loop for BENCH_RUN_S (90) s with the request budget BENCH_RPS (50;
//   0 = none): time until every stream caught up, requests/s at the API (mean and the busiest second), peak RSS,
//   lag per stream at the stop (stop time − checkpoint; includes --lag 10 s) p50/p99/max, and events downloaded
//   per event forwarded.
// - backfill: 2 services × --since 2d (BENCH_BACKFILL_PER_MIN events/min per stream, 10,000-event pages, 4 slices
//   each): events/s and peak RSS.
// BENCH_ONLY=live|backfill runs one. Every event is checked: none missing, none twice (a loop run: at most the
// events visible before the stop, all of them up to the lowest checkpoint).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '../../input/simulator/server.js';
import type { CollectorConfig } from '../../input/types.js';
import { startForwardReceiver } from '../support/forward-receiver.js';
import { ENGINE, runChild } from './collector.bench.js';

const MIN = 60_000;

/** Org ids as JumpCloud spells them (24 hex digits). */
export function orgIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `5f${(i + 1).toString(16).padStart(22, '0')}`);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
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

async function live(out: Record<string, number>): Promise<void> {
  const orgs = orgIds(Number(process.env.BENCH_ORGS ?? 1000));
  const services = (process.env.BENCH_SERVICES ?? 'directory').split(',');
  const runMs = Number(process.env.BENCH_RUN_S ?? 90) * 1000;
  const rps = Number(process.env.BENCH_RPS ?? 50);
  const now = Date.now();
  const arrivals: number[] = [];
  const sim = await startSimulator({
    seed: 11,
    orgs,
    services,
    eventsPerMinute: 1.2,
    from: now - 60 * MIN,
    to: 'live',
    onRequest: (r) => arrivals.push(r.at),
  });
  const rx = await startForwardReceiver({ seed: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  try {
    const config: CollectorConfig = {
      ...baseConfig(sim, rx.port!, dir),
      orgIds: orgs,
      services,
      sinceMs: now - 60 * MIN,
      once: false,
      maxRequestsPerSecond: rps,
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
      runMs,
    );
    // The busiest second as the API saw it: most arrivals in any sliding 1 s window (arrival times carry this
    // process's event-loop delay, so a little above the budget is jitter, not the client).
    let busiest = 0;
    for (let i = 0, j = 0; j < arrivals.length; j++) {
      while (arrivals[j]! - arrivals[i]! >= 1000) i++;
      busiest = Math.max(busiest, j - i + 1);
    }
    const requests = requestsSoFar(sim);
    // None twice, and per stream every event before its checkpoint that was visible when that window ran
    // (checkpoint + lag) arrived; later-indexed ones are the overlap's to catch on a later poll.
    const checkpoints = r.checkpoints ?? {};
    const got = rx.ids();
    const distinct = new Set(got);
    const lags: number[] = [];
    let missing = 0;
    for (const org of orgs)
      for (const service of services) {
        const c = checkpoints[`${org}/${service}`];
        if (c === undefined) continue;
        lags.push(r.stoppedAt! - c);
        for (const e of sim.expectedEvents({
          orgId: org,
          service,
          start: now - 60 * MIN,
          end: c - 1,
          visibleAt: c + config.lagMs,
        }))
          if (!distinct.has(e.id)) missing++;
      }
    lags.sort((a, b) => a - b);
    if (
      r.exitCode !== 0 ||
      distinct.size !== got.length ||
      lags.length !== orgs.length * services.length ||
      missing > 0
    ) {
      throw new Error(
        `live run failed: exit ${r.exitCode}, ${got.length - distinct.size} duplicates, ` +
          `${lags.length} of ${orgs.length * services.length} streams with a checkpoint, ` +
          `${missing} events before their stream's checkpoint missing`,
      );
    }
    out['live_streams'] = orgs.length * services.length;
    out['live_rps_budget'] = rps;
    out['live_catch_up_s'] = r.catchUpSeconds ?? -1;
    out['live_requests_per_s_mean'] = Number((requests / r.seconds).toFixed(1));
    out['live_requests_per_s_busiest_second_at_api'] = busiest;
    out['live_requests_per_s_busiest_second_sent'] = r.busiestSentSecond ?? 0;
    out['live_peak_rss_mb'] = Math.round(r.maxRssMb);
    out['live_events_forwarded'] = r.forwarded;
    // The API cost of the whole run (catch-up of the first hour included): events in /events answers per event
    // forwarded.
    out['live_events_downloaded_per_forwarded'] = Number((sim.stats.events / Math.max(1, r.forwarded)).toFixed(3));
    out['live_lag_p50_s'] = Number((percentile(lags, 50) / 1000).toFixed(1));
    out['live_lag_p99_s'] = Number((percentile(lags, 99) / 1000).toFixed(1));
    out['live_lag_max_s'] = Number((lags.at(-1)! / 1000).toFixed(1));
    out['live_429s'] = Object.values(sim.stats.requests).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0);
  } finally {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
  if (process.env.BENCH_ONLY !== 'backfill') await live(out);
  if (process.env.BENCH_ONLY !== 'live') await backfill(out);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(36)} ${v}`);
}
