// The collector's seams against a real Fluent Bit (FLUENT_BIT_BIN: forward input threaded, filesystem storage, HTTP
// server on loopback, file output): the collector CLI with --services all and --fluent-bit-http against the DI
// simulator hiding password_manager from `all` (switched back mid-run); a second collector on the same --state-dir
// refused by the lock; the first killed -9 and a new one taking the lock it left over.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatClockSpec, parseClockSpec } from '../../../input/clock.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { freePort } from '../e2e/pipeline-harness.js';
import { FluentBitProcess, OutputReader, writeFluentBitConfig } from './fluent-bit-support.js';
import { compareIds, expectNoLoss, expectedIds, spawnCollector, until } from '../../support/collector.js';

const FLUENT_BIT_BIN = process.env.FLUENT_BIT_BIN || undefined;
if (!FLUENT_BIT_BIN) {
  console.warn(
    'seams-fluent-bit.test.ts skipped: FLUENT_BIT_BIN is not set (e.g. FLUENT_BIT_BIN=/usr/local/bin/fluent-bit npx ' +
      'vitest run test/system/collector/seams-fluent-bit.test.ts)',
  );
}

const MIN = 60_000;
const SPEED = 120;

let fb: FluentBitProcess | undefined;
let sim: Simulator | undefined;
const children: ChildProcess[] = [];
let work: string | undefined;
let passed = false;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fb?.forceKill();
  await sim?.close().catch(() => undefined);
  if (passed && work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!FLUENT_BIT_BIN)("the collector's seams into a real Fluent Bit", () => {
  it(
    'every service once (password_manager hidden from "all", then shown again), and one collector per state ' +
      'directory',
    async () => {
      work = mkdtempSync(path.join(tmpdir(), 'fb-seams-'));
      const port = await freePort();
      const httpPort = await freePort();
      const files = writeFluentBitConfig(work, port, httpPort);
      fb = new FluentBitProcess(FLUENT_BIT_BIN!, files, port);
      await fb.start();
      // Its uptime counts whole seconds: acks in its first 2 s cannot be confirmed after the kill below.
      await new Promise((r) => setTimeout(r, 2_100));
      const V = Date.parse('2026-03-01T12:00:00Z');
      const spec = formatClockSpec(V, Date.now(), SPEED);
      const clock = parseClockSpec(spec);
      const services = ['directory', 'sso', 'password_manager'];
      const since = V - 2 * 60 * MIN;
      const to = V + 20 * MIN;
      sim = await startSimulator({
        seed: 17,
        clock,
        services,
        eventsPerMinute: 10,
        from: since,
        to,
        hiddenFromAll: ['password_manager'],
        indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.03, maxMs: 5 * MIN },
      });
      const expected = expectedIds(
        sim,
        services.map((service) => ({ orgId: '', service })),
        since,
        to,
      );
      const stateDir = path.join(work, 'state');
      const args = [
        '--import',
        'tsx',
        'input/cli.ts',
        '--api-url',
        sim.url,
        '--forward',
        `127.0.0.1:${port}`,
        '--state-dir',
        stateDir,
        '--since',
        new Date(since).toISOString(),
        '--lag',
        '2m',
        '--overlap',
        '30m',
        '--interval',
        '1m',
        '--services-check',
        '10m',
        '--page-limit',
        '500',
        '--log-level',
        'info',
        '--fluent-bit-http',
        `127.0.0.1:${httpPort}`,
      ];
      const env = { FLUENT_BIT_JUMPCLOUD_CLOCK: spec, JUMPCLOUD_API_KEY: sim.apiKey };
      const reader = new OutputReader(files.outFile);
      const poller = setInterval(() => reader.poll(), 200);
      try {
        const first = spawnCollector(args, env, path.join(work, 'collector-1.log'));
        children.push(first.child);
        await first.ready;
        // A second collector on the same state directory: refused at once, naming the holder.
        const t = Date.now();
        const second = spawnCollector(args, env, path.join(work, 'collector-2.log'));
        children.push(second.child);
        expect(await second.exited).toBe(2);
        const refusedMs = Date.now() - t;
        expect(refusedMs).toBeLessThan(10_000);
        expect(second.log()).toContain(`is in use by PID ${first.child.pid} on host ${hostname()}`);
        await until(() => clock.now() > V + 5 * MIN, 60_000, 'live polling');
        // kill -9 leaves the lock behind: the next collector takes it over at once and goes on.
        first.child.kill('SIGKILL');
        await first.exited;
        const t2 = Date.now();
        const third = spawnCollector(args, env, path.join(work, 'collector-3.log'));
        children.push(third.child);
        await third.ready;
        const takeover = Date.now() - t2;
        expect(third.log()).not.toContain('is in use by PID');
        sim.setHiddenFromAll([]);
        await until(
          () => {
            reader.poll();
            return clock.now() > to + 12 * MIN && new Set(reader.records.map((r) => r.id)).size >= expected.size;
          },
          90_000,
          'every event in the Fluent Bit output',
        );
        third.child.kill('SIGTERM');
        expect(await third.exited).toBe(0);
        await new Promise((r) => setTimeout(r, 1500)); // Fluent Bit flushes every second
        reader.poll();
        console.log(
          `seams real Fluent Bit: second collector refused in ${refusedMs} ms; after kill -9 the next one ran in ` +
            `${takeover} ms; ${expected.size} events, ${reader.records.length} lines`,
        );
        const cmp = compareIds(
          reader.records.map((r) => r.id),
          expected,
        );
        expectNoLoss(cmp, expected.size);
        expect(cmp.extraCopies).toBe(0);
        expect(reader.junk).toEqual([]);
        // The log is JSON: the message's quotes are escaped.
        expect(first.log() + third.log()).toContain('service missed by \\"all\\": collecting it too');
        passed = true;
      } finally {
        clearInterval(poller);
        await fb.stop();
      }
    },
    180_000,
  );
});
