// The collector side of the benchmark, in its own process so its time and memory are its own:
// `node test/bench/collector-child.mjs <engine module> <config.json> <tuning.json> [runMs]` runs one `once` pass
// (or, with runMs and a config without `once`, the polling loop for runMs) and prints {exitCode, seconds, maxRssMb,
// forwarded, firstForwardedSeconds} as JSON on stdout; a loop run adds catchUpSeconds (every stream's checkpoint at
// or past start − lag), stoppedAt, checkpoints (epoch ms per "org/service") and the steady state after the catch-up
// (from when every stream has completed a poll after it, to the stop): the largest lag of any stream (now −
// checkpoint, sampled every second), the longest time between two polls of a stream, the DI requests sent and the
// polls completed (one per stream and poll). Plain JS so that, with the compiled engine
// (dist/, after `npm run build:input`), no TypeScript loader thread inflates the measured memory.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { runCollector } = await import(pathToFileURL(process.argv[2]).href);
const config = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const tuning = JSON.parse(readFileSync(process.argv[4], 'utf8'));
const t00 = Date.now();
const verbose = (o, m) =>
  void (
    process.env.BENCH_VERBOSE && process.stderr.write(`${Date.now() - t00} ${m} ${JSON.stringify(o).slice(0, 200)}\n`)
  );
const quiet = {
  debug: verbose,
  info: verbose,
  warn: verbose,
  error: (o, m) => process.stderr.write(JSON.stringify({ ...o, msg: m }) + '\n'),
};
const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
// Sampled only with BENCH_MEMORY (process.memoryUsage() walks the heap spaces: ~2 % of the child's CPU);
// the reported peak RSS is the kernel's high-water mark either way. BENCH_MEMORY=2 also prints the timeline.
const timeline = [];
const tStart = Date.now();
const sampler = process.env.BENCH_MEMORY
  ? setInterval(() => {
      const m = process.memoryUsage();
      for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k] / 2 ** 20);
      if (process.env.BENCH_MEMORY === '2')
        timeline.push(
          [Date.now() - tStart, m.rss, m.heapTotal, m.heapUsed, m.arrayBuffers]
            .map((v, i) => (i === 0 ? v : Math.round(v / 2 ** 20)))
            .join(' '),
        );
    }, 25)
  : undefined;
if (process.env.BENCH_HEAPSNAP) {
  const { writeHeapSnapshot } = await import('node:v8');
  setTimeout(
    () => process.stderr.write(`heap snapshot: ${writeHeapSnapshot()}\n`),
    Number(process.env.BENCH_HEAPSNAP),
  ).unref();
}
// BENCH_HEAPPROF=<file>: sampled allocations (including objects already collected) of the whole run, by stack.
let heapProf;
if (process.env.BENCH_HEAPPROF) {
  const { Session } = await import('node:inspector/promises');
  heapProf = new Session();
  heapProf.connect();
  await heapProf.post('HeapProfiler.startSampling', {
    samplingInterval: 32768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
const runMs = process.argv[5] ? Number(process.argv[5]) : undefined;
const stop = new AbortController();
const checkpoints = new Map();
const streams = (config.orgIds.length || 1) * config.services.length;
const target = Date.now() - config.lagMs;
let caughtUpAt;
let steadyFrom;
const polledAfterCatchUp = new Set();
const noop = () => {};
let firstForwardedAt;
/** Completed polls (success per stream), with their times. */
const successes = [];
const lastSuccess = new Map();
let steadyMaxPollGapMs = 0;
const metrics = {
  eventsForwarded: (_org, _service, n) => {
    if (firstForwardedAt === undefined && n > 0) firstForwardedAt = Date.now();
  },
  duplicatesSkipped: noop,
  success: (org, service) => {
    const now = Date.now();
    successes.push(now);
    // The steady state's longest time between two polls of a stream: the interval plus a poll's duration.
    const key = `${org}/${service}`;
    const last = lastSuccess.get(key);
    if (last !== undefined && steadyFrom !== undefined && last >= steadyFrom)
      steadyMaxPollGapMs = Math.max(steadyMaxPollGapMs, now - last);
    lastSuccess.set(key, now);
    // The steady state starts once every stream has polled again after the catch-up.
    if (caughtUpAt !== undefined && now > caughtUpAt && steadyFrom === undefined) {
      polledAfterCatchUp.add(key);
      if (polledAfterCatchUp.size === streams) steadyFrom = now;
    }
  },
  streamFailed: noop,
  streamStarted: noop,
  completenessRefetch: noop,
  checkpoint: (org, service, ms) => {
    checkpoints.set(`${org}/${service}`, ms);
    if (
      caughtUpAt === undefined &&
      ms >= target &&
      checkpoints.size === streams &&
      [...checkpoints.values()].every((c) => c >= target)
    )
      caughtUpAt = Date.now();
  },
};
// The steady state's largest now − checkpoint of any stream.
let steadyMaxLagMs = 0;
const lagSampler =
  runMs === undefined
    ? undefined
    : setInterval(() => {
        const now = Date.now();
        if (steadyFrom === undefined) return;
        for (const c of checkpoints.values()) steadyMaxLagMs = Math.max(steadyMaxLagMs, now - c);
      }, 1000);
const t0 = process.hrtime.bigint();
const tStartMs = Date.now();
if (runMs !== undefined) setTimeout(() => stop.abort(), runMs);
// When each DI request left (its turn in the request budget): the busiest second as the collector sent them.
const sent = [];
const diHooks = { onRequest: () => sent.push(Date.now()) };
const r = await runCollector(config, {
  logger: quiet,
  progressOut: { isTTY: false, write: () => true },
  tuning,
  metrics,
  signal: stop.signal,
  diHooks,
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const stoppedAt = Date.now();
clearInterval(lagSampler);
const after = (times) => (steadyFrom === undefined ? 0 : times.filter((t) => t >= steadyFrom).length);
const loop =
  runMs === undefined
    ? {}
    : {
        catchUpSeconds: caughtUpAt === undefined ? null : (caughtUpAt - tStartMs) / 1000,
        stoppedAt,
        checkpoints: Object.fromEntries(checkpoints),
        steadySeconds: steadyFrom === undefined ? 0 : Math.max(0, (stoppedAt - steadyFrom) / 1000),
        steadyMaxLagMs,
        steadyMaxPollGapMs,
        steadyRequests: after(sent),
        steadyPolls: after(successes),
        polls: successes.length,
        busiestSentSecond: (() => {
          let most = 0;
          for (let i = 0, j = 0; j < sent.length; j++) {
            while (sent[j] - sent[i] >= 1000) i++;
            most = Math.max(most, j - i + 1);
          }
          return most;
        })(),
      };
clearInterval(sampler);

/**
 * This process's peak RSS in MB: Linux's VmHWM. Not resourceUsage().maxRSS: a child's maxRSS starts at its parent's
 * RSS when it was spawned (the kernel keeps the larger at exec), so it reported the bench process's memory (its
 * simulator) as the collector's.
 */
function peakRssMb() {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux: the closest measure there is
  }
  return process.resourceUsage().maxRSS / 1024;
}
if (heapProf) {
  const { profile } = await heapProf.post('HeapProfiler.stopSampling');
  (await import('node:fs')).writeFileSync(process.env.BENCH_HEAPPROF, JSON.stringify(profile));
  heapProf.disconnect();
}
if (process.env.BENCH_MEMORY === '2')
  process.stderr.write(`ms rss heapTotal heapUsed arrayBuffers (MB)\n${timeline.join('\n')}\n`);
if (process.env.BENCH_MEMORY) process.stderr.write(`peak MB: ${JSON.stringify(peak)}\n`);
process.stdout.write(
  JSON.stringify({
    exitCode: r.exitCode,
    seconds,
    maxRssMb: peakRssMb(),
    forwarded: r.forwarded,
    firstForwardedSeconds: firstForwardedAt === undefined ? null : (firstForwardedAt - tStartMs) / 1000,
    ...loop,
  }) + '\n',
);
process.exitCode = r.exitCode;
