// Repeats per kill -9 of the collector against a real Fluent Bit (FLUENT_BIT_BIN): its forward input (threaded,
// filesystem storage, `alias jumpcloud_forward`) writes one line per record to a file; its HTTP server serves
// /api/v1/uptime and /api/v1/metrics to --fluent-bit-http. The collector is killed 10 times while it sends (Fluent
// Bit stays up), then a last run completes: in a backfill of two days of events (pages of 1,000 at 200 ms), and in
// live mode (an accelerated clock, events arriving all along, polled every minute of it).
// With the forward ledger, each restart finds from the input's counters which chunks in flight at the kill were
// stored: nothing is lost and nothing arrives twice.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatClockSpec, parseClockSpec } from '../../../input/clock.js';
import { prng } from '../../../input/simulator/render.js';
import { startSimulator } from '../../../input/simulator/server.js';
import { freePort } from '../e2e/pipeline-harness.js';
import { FluentBitProcess, OutputReader, fluentBitCase, writeFluentBitConfig } from './fluent-bit-support.js';
import {
  compareIds,
  expectNoLoss,
  expectedIds,
  spawnCollector,
  until,
  type CollectorChild,
} from '../../support/collector.js';

const FLUENT_BIT_BIN = process.env.FLUENT_BIT_BIN || undefined;
if (!FLUENT_BIT_BIN) {
  console.warn(
    'kill-repeats-fluent-bit.test.ts skipped: FLUENT_BIT_BIN is not set (e.g. ' +
      'FLUENT_BIT_BIN=/usr/local/bin/fluent-bit npx vitest run test/system/collector/kill-repeats-fluent-bit.test.ts)',
  );
}

const MIN = 60_000;
const KILLS = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records Fluent Bit's forward input stored so far (its /api/v1/metrics). */
async function storedRecords(httpPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/metrics`);
  return ((await res.json()) as { input: Record<string, { records: number }> }).input['jumpcloud_forward']!.records;
}

const t = fluentBitCase();

/** Kills the collector KILLS times while it sends into a real Fluent Bit, restarts it, and checks what arrived. */
async function killRun(mode: 'backfill' | 'live', seed: number): Promise<void> {
  const random = prng(seed);
  t.work = mkdtempSync(path.join(tmpdir(), 'fb-kill-repeats-'));
  const port = await freePort();
  const httpPort = await freePort();
  const files = writeFluentBitConfig(t.work, port, httpPort);
  t.fb = new FluentBitProcess(FLUENT_BIT_BIN!, files, port);
  await t.fb.start();
  // Its uptime counts whole seconds: a baseline in its first 2 s cannot be told from one before a restart.
  await sleep(2_100);

  const org = '5f0c1a2b3c4d5e6f7a8b9c0d';
  const live = mode === 'live';
  // live: 120× (a virtual minute is 0.5 s), 1,500 events a virtual minute (about 3,000/s), 90 virtual minutes.
  const V = Date.parse('2026-03-01T12:00:00Z');
  const spec = live ? formatClockSpec(V, Date.now(), 120) : undefined;
  const clock = spec ? parseClockSpec(spec) : undefined;
  const to = live ? V + 90 * MIN : Date.now() - 30 * MIN;
  const since = live ? V - 2 * MIN : to - 2 * 24 * 60 * MIN;
  t.sim = await startSimulator({
    seed: 70 + seed,
    ...(clock ? { clock } : {}),
    orgs: [org],
    services: ['directory'],
    eventsPerMinute: live ? 1500 : 60,
    from: since,
    to,
    pageLatencyMs: live ? 20 : 200,
    indexDelay: { lateFraction: 0 },
  });
  const expected = expectedIds(t.sim, [{ orgId: org, service: 'directory' }], since, to);
  const args = [
    '--import',
    'tsx',
    'input/cli.ts',
    '--api-url',
    t.sim.url,
    '--org-ids',
    org,
    '--services',
    'directory',
    '--forward',
    `127.0.0.1:${port}`,
    '--state-dir',
    path.join(t.work, 'state'),
    '--since',
    new Date(since).toISOString(),
    '--lag',
    '1m',
    '--overlap',
    '1h',
    '--interval',
    '1m',
    // backfill: pages of 1,000 at 200 ms in 2 slices (up to ~10,000 events/s), so ten runs fit in it.
    '--slices',
    '2',
    '--page-limit',
    '1000',
    '--request-timeout',
    '30s',
    '--log-level',
    'info',
    '--fluent-bit-http',
    `127.0.0.1:${httpPort}`,
  ];
  let runs = 0;
  let log = '';
  const start = (): CollectorChild => {
    const c = spawnCollector(
      args,
      { JUMPCLOUD_API_KEY: t.sim!.apiKey, ...(spec ? { FLUENT_BIT_JUMPCLOUD_CLOCK: spec } : {}) },
      path.join(t.work!, `collector-${String(runs++).padStart(2, '0')}.log`),
    );
    t.children.push(c.child);
    void c.exited.then(() => (log += c.log()));
    return c;
  };
  const reader = new OutputReader(files.outFile);
  const poller = setInterval(() => reader.poll(), 200);
  const atKill: number[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      const c = start();
      await c.ready;
      // Killed while it sends: once Fluent Bit's input stored 1,000 to 8,000 more records (live: 500 to 3,000;
      // its file output lags by its 1 s flush).
      const target =
        (await storedRecords(httpPort)) +
        (live ? 500 + Math.floor(random() * 2_500) : 1_000 + Math.floor(random() * 7_000));
      let exited = false;
      void c.exited.then(() => (exited = true));
      for (const deadline = Date.now() + 60_000; !exited && (await storedRecords(httpPort)) < target; await sleep(20)) {
        if (Date.now() > deadline)
          throw new Error(`run ${k}: Fluent Bit's input did not reach ${target} records within 60 s`);
      }
      expect(exited, `run ${k} ended before its kill`).toBe(false);
      c.child.kill('SIGKILL');
      await c.exited;
      await sleep(300);
      reader.poll();
      atKill.push(reader.records.length);
    }
    const last = start();
    await last.ready;
    await until(
      () => (
        reader.poll(),
        (clock ? clock.now() > to + 2 * MIN : true) && new Set(reader.records.map((r) => r.id)).size >= expected.size
      ),
      120_000,
      'every event after the kills',
    );
    await sleep(1_000);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    // Everything Fluent Bit holds reaches the file: stop it cleanly once the output stands still.
    let n = -1;
    for (let stableSince = Date.now(); Date.now() - stableSince < 2_000; await sleep(200)) {
      reader.poll();
      if (reader.records.length !== n) [n, stableSince] = [reader.records.length, Date.now()];
    }
    expect(await t.fb.stop()).toBe(0);
  } finally {
    clearInterval(poller);
  }
  reader.poll();
  const ids = reader.records.map((r) => r.id);
  const cmp = compareIds(ids, expected);
  expectNoLoss(cmp, expected.size);
  // A copy of an id already in the file, arriving after kill k, is a repeat that kill caused.
  const seen = new Set<string>();
  const repeatsPerKill = new Array<number>(KILLS).fill(0);
  let withinFirstRun = 0;
  ids.forEach((id, i) => {
    if (!seen.has(id)) return void seen.add(id);
    const run = atKill.findIndex((at) => i < at);
    if (run === 0) return void withinFirstRun++;
    repeatsPerKill[(run < 0 ? KILLS : run) - 1]!++;
  });
  const decisions = log
    .split('\n')
    .filter((l) => l.includes('events written to Fluent Bit just before the collector stopped'))
    .map((l) => {
      const o = JSON.parse(l) as { stored: number; resent: number };
      return `${o.stored}/${o.resent}`;
    });
  const summary =
    `${expected.size} events, ${ids.length} lines; repeats after each kill ` +
    `[${repeatsPerKill.join(', ')}]; in flight at the kills, found stored/sent again [${decisions.join(', ')}]; ` +
    `torn lines ${reader.torn}; work dir ${t.work}`;
  console.log(`kill-repeats real Fluent Bit, ${mode} (${FLUENT_BIT_BIN}): ${summary}`);
  expect(log, summary).toContain("Fluent Bit's input counted the first ones as stored");
  expect(log, summary).not.toContain('cannot tell which chunks written');
  expect({ withinFirstRun, repeatsPerKill }, summary).toEqual({
    withinFirstRun: 0,
    repeatsPerKill: new Array<number>(KILLS).fill(0),
  });
}

describe.skipIf(!FLUENT_BIT_BIN)('repeats per kill -9 of the collector, real Fluent Bit up, --fluent-bit-http', () => {
  for (const mode of ['backfill', 'live'] as const) {
    it(`${mode}: ${KILLS} kills, nothing lost, nothing sent twice`, async () => {
      await killRun(mode, Number(process.env.FB_KILL_SEED ?? (mode === 'live' ? 8 : 7)));
      t.passed = true;
    }, 600_000);
  }
});
