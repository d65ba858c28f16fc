// The simulator's own costs, in this process (no HTTP): how fast the store serves 10,000-event pages (what every
// benchmark's API answers are made of), and the memory many org streams cost once each has served a page (the
// scale benchmark runs 1,000-5,000 orgs). Run: npm run bench -- simulator
// BENCH_SIM_ORGS (default 1000,5000) orgs; BENCH_SIM_SERVICES (default: every generated service) services per org;
// a run stops when RSS passes BENCH_SIM_MAX_RSS_MB (default 6000: the machine is shared) and says how far it got.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventStore, GENERATED_SERVICES } from '../../input/simulator/events.js';

// A full collection before each memory reading, so that what stays is measured, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const end = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const services = process.env.BENCH_SIM_SERVICES?.split(',') ?? [...GENERATED_SERVICES];
const noDelay = { typicalMaxMs: 0, lateFraction: 0, maxMs: 0 };
const maxRss = Number(process.env.BENCH_SIM_MAX_RSS_MB ?? 6000) * 1e6;

function best(f: () => unknown, runs = 15): number {
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

const window = (streams: number[], fromMs: number) => ({
  streams,
  start: { ms: fromMs, subNs: 0 },
  end: { ms: end, subNs: 0 },
  visibleAt: Infinity,
});

/** One org, every service: 10,000-event pages of `all`, assembled from the body pools. */
function pageServing(): void {
  const fromMs = end - 6 * 60_000;
  const store = new EventStore({
    seed: 1,
    orgs: [''],
    services,
    eventsPerMinute: 3000,
    fromMs,
    toMs: end,
    indexDelay: noDelay,
  });
  const range = window(store.streamsFor([''], 'all'), fromMs);
  const page = store.scan(range, 10_000);
  const first = performance.now();
  const bytes = store.page(page);
  const cold = performance.now() - first;
  const scan = best(() => store.scan(range, 10_000));
  const assemble = best(() => store.page(page));
  const mb = bytes.length / 1e6;
  console.log(`services: ${services.length} (${services.join(',')})`);
  console.log(
    `page: ${page.length} events, ${mb.toFixed(1)} MB (${Math.round(bytes.length / page.length)} B/event); ` +
      `first page ${cold.toFixed(0)} ms (renders the pools)`,
  );
  console.log(
    `store.scan (cached buckets): ${scan.toFixed(1)} ms; store.page: ${assemble.toFixed(1)} ms = ` +
      `${Math.round((page.length / assemble) * 1000)} events/s = ${((mb / assemble) * 1000).toFixed(0)} MB/s`,
  );
}

/** `orgs` orgs × services: one page of each stream served, then the heap and RSS that stay. */
function manyStreams(orgs: number): void {
  gc();
  const rss0 = process.memoryUsage().rss;
  const ids = Array.from({ length: orgs }, (_, i) => `5f${(i + 1).toString(16).padStart(22, '0')}`);
  const fromMs = end - 3_600_000;
  const store = new EventStore({
    seed: 11,
    orgs: ids,
    services,
    eventsPerMinute: 1.2,
    fromMs,
    toMs: end,
    indexDelay: noDelay,
  });
  const t = performance.now();
  let events = 0;
  let bytes = 0;
  let i = 0;
  for (; i < store.streams.length; i++) {
    if (i % 100 === 0 && process.memoryUsage().rss > maxRss) break;
    const page = store.scan(window([i], fromMs), 10_000);
    events += page.length;
    bytes += store.page(page).length;
  }
  const s = (performance.now() - t) / 1000;
  gc();
  const m = process.memoryUsage();
  const stopped = i < store.streams.length ? ` STOPPED at ${i} streams (RSS over ${maxRss / 1e6} MB)` : '';
  const mb = (n: number): number => Math.round(n / 1e6);
  console.log(
    `${orgs} orgs × ${services.length} services = ${store.streams.length} streams${stopped}: ` +
      `${events} events (${mb(bytes)} MB) served in ${s.toFixed(1)} s; then heap ${mb(m.heapUsed)} MB, ` +
      `RSS +${mb(m.rss - rss0)} MB`,
  );
}

pageServing();
for (const n of (process.env.BENCH_SIM_ORGS ?? '1000,5000').split(',').map(Number)) manyStreams(n);
