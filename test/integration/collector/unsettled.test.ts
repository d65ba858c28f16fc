// A threaded Fluent Bit killed right after acking: its forward input acks records that wait in a ring buffer
// moved into storage every 250 ms, so a kill -9 loses acked records. The collector lets an acked frame go at once
// (settleResend 'caller'); when the connection closes within the settle time, the stream polls again and re-reads
// those events from the API. Against the simulator and the protocol-level receiver modelling that ring buffer:
// several crashes mid-run, each losing acked records, and still every event arrives.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '../../../input/collector/engine/run.js';
import { startSimulator } from '../../../input/simulator/server.js';
import type { CollectorConfig } from '../../../input/types.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { memoryLogger } from '../../support/fakes.js';
import { compareIds, expectNoLoss, expectedIds } from '../../support/collector.js';

const MIN = 60_000;
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('Fluent Bit killed within the ack settle time', () => {
  for (const mode of ['window', 'backfill'] as const) {
    it(`${mode}: acked records lost in 3 crashes are fetched again from the API; every event arrives`, async () => {
      const to = Date.now() - 10 * MIN;
      const from = to - 60 * MIN;
      const sim = await startSimulator({
        seed: mode === 'window' ? 21 : 22,
        services: ['directory'],
        eventsPerMinute: 400,
        from,
        to,
        pageLatencyMs: 15,
        indexDelay: { lateFraction: 0 },
      });
      cleanup.push(() => sim.close());
      // Records reach storage only when the test commits the ring (every 250 ms here, as Fluent Bit's engine does).
      const rx = await startForwardReceiver({ seed: 5, commitEveryMs: 250 });
      cleanup.push(() => rx.close());
      const stateDir = mkdtempSync(path.join(tmpdir(), 'unsettled-'));
      cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
      const expected = expectedIds(sim, [{ orgId: '', service: 'directory' }], from, to);
      expect(expected.size).toBeGreaterThan(9_000);
      const config: CollectorConfig = {
        apiUrl: sim.url,
        auth: { kind: 'apiKey', apiKey: sim.apiKey },
        orgIds: [],
        services: ['directory'],
        pageLimit: 250,
        requestTimeoutMs: 10_000,
        forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
        ackSettleMs: 500,
        tag: 'jumpcloud.{service}',
        stateDir,
        sinceMs: from,
        lagMs: 2 * MIN,
        overlapMs: 60 * MIN,
        intervalMs: MIN,
        once: true,
        backfillSlices: 3,
        maxSeenIds: 1_000_000,
      };
      // Crash the receiver 3 times while traffic flows, each time right after new acks (inside their settle time).
      let lost = 0;
      let crashes = 0;
      let nextAt = 8;
      const crasher = setInterval(() => {
        if (crashes < 3 && rx.stats.acks >= nextAt) {
          lost += rx.crash();
          crashes++;
          nextAt = rx.stats.acks + 10;
        }
      }, 2);
      cleanup.push(() => clearInterval(crasher));
      const logger = memoryLogger();
      const result = await runCollector(config, {
        logger,
        tuning: { backfillThresholdMs: mode === 'backfill' ? 1 : 365 * 24 * 60 * MIN, sendBatch: 250 },
        progressOut: { isTTY: false, write: () => true },
      });
      clearInterval(crasher);
      rx.commit();
      expect(crashes).toBe(3);
      // The crashes did lose acked records: without the re-read these would be missing.
      expect(lost).toBeGreaterThan(0);
      expect(result.exitCode).toBe(0);
      const refetches = logger.lines.filter((l) => l.msg?.startsWith('events acknowledged just before Fluent Bit'));
      expect(refetches.length).toBeGreaterThanOrEqual(1);
      const cmp = compareIds(rx.ids(), expected);
      expectNoLoss(cmp, expected.size);
      // Repeats are the price of the crashes: what was acked but possibly not stored is sent again.
      expect(cmp.extraCopies).toBeLessThan(expected.size);
    });
  }
});
