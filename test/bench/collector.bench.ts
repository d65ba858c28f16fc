// Collector benchmark: events/s from the DI simulator into the forward receiver with 10,000-event pages, peak
// RSS, and the backfill speed-up with N = 1, 2, 4, 8 slices at 200 ms simulated page latency.
// `run()` returns the numbers; `node --import tsx test/bench/collector.bench.ts` prints them.
// Profiling knobs (env): BENCH_ONLY=throughput|backfill, BENCH_SLICES=1,8, BENCH_BACKFILL_EVENTS=100000,
// BENCH_TUNING='{"pipelineBytes":8388608}',
// BENCH_NODE_FLAGS='--max-old-space-size=192', BENCH_CPU_PROF=<dir> (node --cpu-prof of the collector),
// BENCH_MEMORY=1 (peak heap/external; =2 also a timeline), BENCH_HEAPSNAP=<ms> (heap snapshot), BENCH_HEAPPROF=<file>
// (sampled allocations of the whole run, collected objects included), BENCH_VERBOSE=1 (engine logs),
// BENCH_FLUENT_BIT_INPUT=<name> (--fluent-bit-http to the receiver's HTTP server with --fluent-bit-input <name>: the
// receiver's input is jumpcloud_forward, so that name journals every write for the forward ledger, any other name
// runs without the ledger but with the acks journaled).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../../input/simulator/server.js';
import type { CollectorConfig } from '../../input/types.js';
import { startForwardReceiver } from '../support/forward-receiver.js';
import { writeResult } from './result.js';

const MIN = 60_000;
/**
 * Events of the backfill runs (BENCH_BACKFILL_EVENTS overrides): a run's fixed costs (start-up, slice planning,
 * the last acks' 500 ms settle: ~0.8 s) weigh on the 8-slice time of this small backfill; a larger one shows
 * the speed-up a real (days of events) backfill gets.
 */
const BACKFILL_EVENTS = Number(process.env.BENCH_BACKFILL_EVENTS ?? 33_000);

interface Pass {
  readonly events: number;
  readonly seconds: number;
  readonly peakRssMb: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The engine the child runs: the compiled one (dist/, built by `npm run bench`) when it is at least as new as
 * the source, as users run it; otherwise the TypeScript source through tsx (its loader thread adds ~40 MB RSS).
 */
export const ENGINE = ((): { module: string; nodeArgs: string[]; compiled: boolean } => {
  const dist = path.join(ROOT, 'dist/input/collector/engine/run.js');
  const src = path.join(ROOT, 'input/collector/engine/run.ts');
  const newestSource = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newestSource(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs,
      ),
    );
  // tsc (incremental) rewrites only the outputs that changed, but always its build info: that is the build's time.
  const info = path.join(ROOT, 'build/tsconfig.tsbuildinfo');
  const built = Math.max(existsSync(dist) ? statSync(dist).mtimeMs : 0, existsSync(info) ? statSync(info).mtimeMs : 0);
  const fresh = existsSync(dist) && built >= newestSource(path.join(ROOT, 'input'));
  return fresh
    ? { module: dist, nodeArgs: [], compiled: true }
    : { module: src, nodeArgs: ['--import', 'tsx'], compiled: false };
})();

export interface ChildResult {
  readonly exitCode: number;
  readonly seconds: number;
  readonly maxRssMb: number;
  readonly forwarded: number;
  /**
   * Loop runs (runMs): when every stream's checkpoint reached start − lag (null: never), the stop, each stream's
   * checkpoint ("org/service").
   */
  readonly catchUpSeconds?: number | null;
  readonly stoppedAt?: number;
  readonly checkpoints?: Record<string, number>;
  /** Most DI requests the collector sent in any 1 s (its onRequest hook; 0 for an engine without it). */
  readonly busiestSentSecond?: number;
  /** Seconds from the start to the first event forwarded (null: none). */
  readonly firstForwardedSeconds?: number | null;
  /** Loop runs, from one interval after the catch-up to the stop: its length, the largest lag of any stream. */
  readonly steadySeconds?: number;
  readonly steadyMaxLagMs?: number;
  /** The longest time between two polls of a stream in that time (the interval plus a poll's duration). */
  readonly steadyMaxPollGapMs?: number;
  /** DI requests sent and polls completed (one per stream and poll) in that time. */
  readonly steadyRequests?: number;
  readonly steadyPolls?: number;
  /** Polls completed in the whole run (one per stream and poll). */
  readonly polls?: number;
}

/** The collector in its own process (collector-child.mjs): one `once` pass, or the polling loop for `runMs`. */
export function runChild(
  configFile: string,
  tuningFile: string,
  cpuProfDir?: string,
  runMs?: number,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const args = [
      ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
      ...ENGINE.nodeArgs,
      'test/bench/collector-child.mjs',
      ENGINE.module,
      configFile,
      tuningFile,
      ...(runMs !== undefined ? [String(runMs)] : []),
    ];
    const child = spawn(
      process.execPath,
      [...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []), ...args],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const lines = out.trim().split('\n');
        // Anything before the result line is the child's own output (e.g. BENCH_NODE_FLAGS='--trace-gc').
        if (lines.length > 1) process.stderr.write(lines.slice(0, -1).join('\n') + '\n');
        resolve(JSON.parse(lines.at(-1)!));
      } catch {
        reject(new Error(`collector child exited ${code} without a result: ${out}`));
      }
    });
  });
}

/**
 * One `once` pass over [from, to] of one stream, the collector in a child process (the simulator and the
 * receiver stay here); `to` is 10 min in the past and nothing is indexed late, so one pass gets everything.
 */
async function pass(opts: {
  events: number;
  pageLimit: number;
  slices: number;
  pageLatencyMs: number;
  spanMs: number;
  backfill: boolean;
}): Promise<Pass> {
  const now = Date.now();
  const to = now - 10 * MIN;
  const from = to - opts.spanMs;
  const perMinute = opts.events / (opts.spanMs / MIN);
  const sim = await startSimulator({
    seed: 9,
    services: ['directory'],
    eventsPerMinute: perMinute,
    from,
    to,
    pageLatencyMs: opts.pageLatencyMs,
    indexDelay: { lateFraction: 0 },
  });
  const fbInput = process.env.BENCH_FLUENT_BIT_INPUT;
  const rx = await startForwardReceiver({ seed: 1, ...(fbInput ? { httpUptime: true, commitEveryMs: 250 } : {}) });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-collector-'));
  try {
    // The simulator generates events in [from, to] (both ends); its query reading is half-open, hence to + 1 ms.
    const expectedIds = new Set(
      sim.expectedEvents({ service: 'directory', start: from, end: to + 1 }).map((e) => e.id),
    );
    const expected = expectedIds.size;
    const config: CollectorConfig = {
      apiUrl: sim.url,
      auth: { kind: 'apiKey', apiKey: sim.apiKey },
      orgIds: [],
      services: ['directory'],
      pageLimit: opts.pageLimit,
      requestTimeoutMs: 60_000,
      forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
      tag: 'jumpcloud.{service}',
      stateDir: path.join(dir, 'state'),
      sinceMs: from,
      lagMs: 2 * MIN,
      overlapMs: 60 * MIN,
      intervalMs: MIN,
      once: true,
      backfillSlices: opts.slices,
      maxSeenIds: 2_000_000,
      // The CLI's default (--ack-settle); BENCH_ACK_SETTLE_MS measures another.
      ackSettleMs: Number(process.env.BENCH_ACK_SETTLE_MS ?? 500),
      ...(fbInput ? { fluentBitHttp: { host: '127.0.0.1', port: rx.httpPort! }, fluentBitInput: fbInput } : {}),
    };
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(
      path.join(dir, 'tuning.json'),
      JSON.stringify({
        backfillThresholdMs: opts.backfill ? 1 : 365 * 24 * 60 * MIN,
        progressLogEveryMs: 1e9,
        ...(process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : {}),
      }),
    );
    const r = await runChild(path.join(dir, 'config.json'), path.join(dir, 'tuning.json'), process.env.BENCH_CPU_PROF);
    const gotIds = new Set(rx.ids());
    const missing = [...expectedIds].filter((id) => !gotIds.has(id)).length;
    const extra = [...gotIds].filter((id) => !expectedIds.has(id));
    if (r.exitCode !== 0 || missing > 0 || extra.length > 0) {
      throw new Error(
        `bench pass incomplete: exit ${r.exitCode}, ${gotIds.size} distinct ids received, ` +
          `${missing} of ${expected} expected missing, ${extra.length} unexpected (${extra.slice(0, 3).join(', ')})`,
      );
    }
    return { events: expected, seconds: r.seconds, peakRssMb: r.maxRssMb };
  } finally {
    await rx.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = { collector_engine_compiled: ENGINE.compiled ? 1 : 0 };
  if (process.env.BENCH_ONLY !== 'backfill') {
    // Throughput: 300,000 events over 2 hours in one window, 10,000-event pages.
    const tp = await pass({
      events: 300_000,
      pageLimit: 10_000,
      slices: 1,
      pageLatencyMs: 0,
      spanMs: 120 * MIN,
      backfill: false,
    });
    out['collector_events_per_s'] = Math.round(tp.events / tp.seconds);
    out['collector_peak_rss_mb'] = Math.round(tp.peakRssMb);
  }
  if (process.env.BENCH_ONLY === 'throughput') return out;
  // Backfill speed-up: 33,000 events in pages of 250 at 200 ms each (133 requests for one chain; about 17 per
  // slice with 8). The page size keeps the run latency-bound, which is what slicing addresses; with 10,000-event
  // pages the 2-core machine's CPU (simulator + receiver + collector) would be the limit instead.
  let base = 0;
  for (const n of (process.env.BENCH_SLICES ?? '1,2,4,8').split(',').map(Number)) {
    const b = await pass({
      events: BACKFILL_EVENTS,
      pageLimit: 250,
      slices: n,
      pageLatencyMs: 200,
      spanMs: 3 * 24 * 60 * MIN,
      backfill: true,
    });
    if (n === 1) base = b.seconds;
    out[`backfill_${n}_slices_s`] = Number(b.seconds.toFixed(2));
    out[`backfill_${n}_slices_speedup`] = Number((base / b.seconds).toFixed(2));
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(32)} ${v}`);
  writeResult(r);
}
