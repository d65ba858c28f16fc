// Why the shipped forward input says `threaded on`: on Fluent Bit 5.1 the same pipeline with a forward
// input that is not threaded acks every record to the collector and then drops all of them in the wasm
// filter ("native stack overflow"); on 4.2 it delivers them. Each line's behaviour is asserted, so that a
// release that changes either is noticed, next to the shipped setting delivering everything on both.
// Needs FLUENT_BIT_BIN; otherwise it says why and skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fluentBitLine, skipReason, type FluentBitLine } from './pipeline-harness.js';
import { countIds, runScenario, type Scenario } from './scenario.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/e2e/threaded.test.ts skipped: ${reason}`);

const GENERATED = 300;
const TIMEOUT_MS = 60_000;

/** What `threaded off` does per release line. */
const THREADED_OFF: Record<FluentBitLine, 'drops every record' | 'delivers every record'> = {
  '5.1': 'drops every record',
  '4.2': 'delivers every record',
};

function expectAllOnce(s: Scenario): void {
  expect(s.collector.code).toBe(0);
  const counts = countIds(s.fb.stdoutDocs);
  expect(new Set(counts.keys())).toEqual(new Set(s.expectedIds));
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  expect(s.fb.stderr()).not.toMatch(/native stack overflow/);
}

describe.skipIf(reason !== undefined)('the forward input must be threaded', () => {
  const runs: Partial<Record<'on' | 'off', Scenario>> = {};
  let line: FluentBitLine;

  beforeAll(async () => {
    line = fluentBitLine();
    for (const mode of ['off', 'on'] as const) {
      const s = await runScenario({
        format: 'conf',
        outputs: ['stdout'],
        threaded: mode === 'on',
        generated: GENERATED,
        collectorTimeoutMs: TIMEOUT_MS,
      });
      runs[mode] = s;
      const n = s.expectedIds.length;
      const dropping = mode === 'off' && THREADED_OFF[line] === 'drops every record';
      if (dropping)
        await s.fb.waitFor(
          () => (s.fb.stderr().match(/native stack overflow/g) ?? []).length >= n,
          TIMEOUT_MS,
          `${n} filter failures`,
        );
      else
        await s.fb.waitFor(
          () => s.fb.stdoutDocs.length >= n,
          TIMEOUT_MS,
          `${n} documents (threaded ${mode}, Fluent Bit ${line})`,
        );
      // Flush interval is 1 s: anything that survived, or any duplicate, would be out by now.
      await new Promise((r) => setTimeout(r, 3_000));
      await s.fb.stop();
    }
  }, TIMEOUT_MS * 3);

  afterAll(async () => {
    for (const s of Object.values(runs)) await s?.close();
  });

  it('threaded off on 5.1: the collector is acked for every event, and every record is dropped', ({ skip }) => {
    if (THREADED_OFF[line] !== 'drops every record')
      skip(`Fluent Bit ${line}: threaded off ${THREADED_OFF[line]} (asserted below)`);
    const s = runs.off!;
    expect(s.collector.code, 'the collector saw every chunk acked').toBe(0);
    expect(s.fb.stdoutDocs).toHaveLength(0);
    const failures = s.fb.stderr().match(/Got exception running wasm code: Exception: native stack overflow/g) ?? [];
    expect(failures.length).toBe(s.expectedIds.length);
  });

  it('threaded off on 4.2: every event arrives, once (threaded on is shipped for 5.1)', ({ skip }) => {
    if (THREADED_OFF[line] !== 'delivers every record')
      skip(`Fluent Bit ${line}: threaded off ${THREADED_OFF[line]} (asserted above)`);
    expectAllOnce(runs.off!);
  });

  it('threaded on (as shipped): the same events all arrive, once', () => {
    expectAllOnce(runs.on!);
  });
});
