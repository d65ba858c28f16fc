// The collector side of the benchmark, in its own process so its time and memory are its own:
// `node test/bench/collector-child.mjs <engine module> <config.json> <tuning.json>` runs one `once` pass and
// prints {exitCode, seconds, maxRssMb, forwarded} as JSON on stdout. Plain JS so that, with the compiled engine
// (dist/, after `npm run build:input`), no TypeScript loader thread inflates the measured memory.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { runCollector } = await import(pathToFileURL(process.argv[2]).href);
const config = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const tuning = JSON.parse(readFileSync(process.argv[4], 'utf8'));
const t00 = Date.now();
const verbose = (o, m) => void (process.env.BENCH_VERBOSE && process.stderr.write(`${Date.now() - t00} ${m} ${JSON.stringify(o).slice(0, 200)}\n`));
const quiet = { debug: verbose, info: verbose, warn: verbose, error: (o, m) => process.stderr.write(JSON.stringify({ ...o, msg: m }) + '\n') };
const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
// Sampled only with BENCH_MEMORY (process.memoryUsage() walks the heap spaces: ~2 % of the child's CPU);
// the reported peak RSS is the kernel's maxRSS either way. BENCH_MEMORY=2 also prints the timeline.
const timeline = [];
const tStart = Date.now();
const sampler = process.env.BENCH_MEMORY ? setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k] / 2 ** 20);
  if (process.env.BENCH_MEMORY === '2') timeline.push([Date.now() - tStart, m.rss, m.heapTotal, m.heapUsed, m.arrayBuffers].map((v, i) => (i === 0 ? v : Math.round(v / 2 ** 20))).join(' '));
}, 25) : undefined;
if (process.env.BENCH_HEAPSNAP) {
  const { writeHeapSnapshot } = await import('node:v8');
  setTimeout(() => process.stderr.write(`heap snapshot: ${writeHeapSnapshot()}\n`), Number(process.env.BENCH_HEAPSNAP)).unref();
}
// BENCH_HEAPPROF=<file>: sampled allocations (including objects already collected) of the whole run, by stack.
let heapProf;
if (process.env.BENCH_HEAPPROF) {
  const { Session } = await import('node:inspector/promises');
  heapProf = new Session();
  heapProf.connect();
  await heapProf.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const t0 = process.hrtime.bigint();
const r = await runCollector(config, { logger: quiet, progressOut: { isTTY: false, write: () => true }, tuning });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
clearInterval(sampler);
if (heapProf) {
  const { profile } = await heapProf.post('HeapProfiler.stopSampling');
  (await import('node:fs')).writeFileSync(process.env.BENCH_HEAPPROF, JSON.stringify(profile));
  heapProf.disconnect();
}
if (process.env.BENCH_MEMORY === '2') process.stderr.write(`ms rss heapTotal heapUsed arrayBuffers (MB)\n${timeline.join('\n')}\n`);
if (process.env.BENCH_MEMORY) process.stderr.write(`peak MB: ${JSON.stringify(peak)}\n`);
process.stdout.write(JSON.stringify({ exitCode: r.exitCode, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, forwarded: r.forwarded }) + '\n');
process.exitCode = r.exitCode;
