// Throughput of the DI client against the simulator (in a child process, as the API would be) and of the page
// splitter alone. Run: node --import tsx test/bench/di.bench.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDiClient } from '../../input/di/client.js';
import { splitJsonArray } from '../../input/di/page-split.js';
import { EventStore, GENERATED_SERVICES } from '../../input/simulator/events.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The six services this benchmark has always served (its figures stay comparable); BENCH_DI_SERVICES=all for
// every service of the simulator's catalog, or a list.
const SIX = ['directory', 'sso', 'radius', 'ldap', 'systems', 'password_manager'];
const wanted = process.env.BENCH_DI_SERVICES;
const services = wanted === 'all' ? [...GENERATED_SERVICES] : wanted ? wanted.split(',') : SIX;
const end = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
const minutes = 6;
const perStream = 3000;

function splitterBench(): void {
  const store = new EventStore({
    seed: 1,
    orgs: [''],
    services,
    eventsPerMinute: perStream,
    fromMs: end - minutes * 60_000,
    toMs: end,
    indexDelay: { typicalMaxMs: 0, lateFraction: 0, maxMs: 0 },
  });
  const page = store.scan(
    {
      streams: store.streamsFor([''], 'all'),
      start: { ms: end - minutes * 60_000, subNs: 0 },
      end: { ms: end, subNs: 0 },
      visibleAt: Infinity,
    },
    10_000,
  );
  const bytes = store.page(page);
  const body = bytes.toString('utf8');
  const best = (f: () => unknown): number => {
    let b = Infinity;
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      f();
      b = Math.min(b, performance.now() - t);
    }
    return b;
  };
  const split = best(() => splitJsonArray(bytes));
  const parse = best(() => JSON.parse(body));
  const decode = best(() => bytes.toString('utf8'));
  const mb = bytes.length / 1e6;
  console.log(`page: ${page.length} events, ${mb.toFixed(1)} MB (${Math.round(bytes.length / page.length)} B/event)`);
  console.log(
    `splitJsonArray: ${split.toFixed(1)} ms = ${((mb / split) * 1000).toFixed(0)} MB/s = ` +
      `${Math.round((page.length / split) * 1000)} events/s`,
  );
  console.log(
    `  for comparison JSON.parse: ${parse.toFixed(1)} ms = ${((mb / parse) * 1000).toFixed(0)} MB/s; ` +
      `UTF-8 decode: ${decode.toFixed(1)} ms`,
  );
}

async function clientBench(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'input/simulator/main.ts',
      '--port',
      '0',
      '--rate',
      String(perStream),
      '--services',
      services.join(','),
      '--from',
      new Date(end - minutes * 60_000).toISOString(),
      '--to',
      new Date(end).toISOString(),
      '--max-index-delay',
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening at (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`simulator exited ${code}`)));
    });
    const client = createDiClient({
      apiUrl: url,
      auth: { kind: 'apiKey', apiKey: 'sim-api-key' },
      prefetch: process.env.DI_PREFETCH !== '0',
    });
    const q = {
      service: 'all',
      start: new Date(end - minutes * 60_000).toISOString(),
      end: new Date(end).toISOString(),
    };
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      let n = 0;
      let rss = 0;
      for await (const p of client.pages(q)) {
        n += p.events.length;
        rss = Math.max(rss, process.memoryUsage().rss);
      }
      const s = (performance.now() - t) / 1000;
      console.log(
        `client.pages(): ${n} events in ${s.toFixed(2)} s = ${Math.round(n / s)} events/s, ` +
          `peak RSS ${Math.round(rss / 1e6)} MB (10,000-event pages; simulator in its own process)`,
      );
    }
    await client.close();
  } finally {
    child.kill('SIGTERM');
  }
}

// DI_BENCH=client or =split runs one half (RSS of the client alone is only meaningful without the other).
if (process.env.DI_BENCH !== 'client') splitterBench();
if (process.env.DI_BENCH !== 'split') await clientBench();
