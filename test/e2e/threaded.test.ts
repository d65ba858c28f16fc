// Why the shipped forward input says `threaded on`: the same pipeline with a forward input that is not
// threaded acks every record to the collector and then drops all of them in the wasm filter ("native
// stack overflow" on Fluent Bit 5.1). The test asserts that loss, so that a Fluent Bit release that
// changes it is noticed, next to the shipped setting delivering everything.
// Needs FLUENT_BIT_BIN; otherwise it says why and skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from './pipeline-harness.js';
import { countIds, runScenario, type Scenario } from './scenario.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/e2e/threaded.test.ts skipped: ${reason}`);

const GENERATED = 300;
const TIMEOUT_MS = 60_000;

describe.skipIf(reason !== undefined)('the forward input must be threaded', () => {
  const runs: Partial<Record<'on' | 'off', Scenario>> = {};

  beforeAll(async () => {
    for (const mode of ['off', 'on'] as const) {
      const s = await runScenario({ format: 'conf', outputs: ['stdout'], threaded: mode === 'on', generated: GENERATED, collectorTimeoutMs: TIMEOUT_MS });
      runs[mode] = s;
      const n = s.expectedIds.length;
      if (mode === 'on') await s.fb.waitFor(() => s.fb.stdoutDocs.length >= n, TIMEOUT_MS, `${n} documents`);
      else await s.fb.waitFor(() => (s.fb.stderr().match(/native stack overflow/g) ?? []).length >= n, TIMEOUT_MS, `${n} filter failures`);
      // Flush interval is 1 s: anything that survived would be out by now.
      await new Promise((r) => setTimeout(r, 3_000));
      await s.fb.stop();
    }
  }, TIMEOUT_MS * 3);

  afterAll(async () => {
    for (const s of Object.values(runs)) await s?.close();
  });

  it('threaded off: the collector is acked for every event, and every record is dropped', () => {
    const s = runs.off!;
    expect(s.collector.code, 'the collector saw every chunk acked').toBe(0);
    expect(s.fb.stdoutDocs).toHaveLength(0);
    const failures = s.fb.stderr().match(/Got exception running wasm code: Exception: native stack overflow/g) ?? [];
    expect(failures.length).toBe(s.expectedIds.length);
  });

  it('threaded on (as shipped): the same events all arrive, once', () => {
    const s = runs.on!;
    expect(s.collector.code).toBe(0);
    const counts = countIds(s.fb.stdoutDocs);
    expect(new Set(counts.keys())).toEqual(new Set(s.expectedIds));
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(s.fb.stderr()).not.toMatch(/native stack overflow/);
  });
});
