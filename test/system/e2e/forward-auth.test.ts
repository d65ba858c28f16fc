// The optional shared-key handshake of the shipped forward input (FORWARD_SHARED_KEY): with the same key
// the collector authenticates and every event arrives; with a wrong key Fluent Bit refuses it and nothing
// is accepted (the collector does not report success). Needs FLUENT_BIT_BIN; otherwise it says why and skips.
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from './pipeline-harness.js';
import { countIds, runScenario, type Scenario } from './scenario.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/e2e/forward-auth.test.ts skipped: ${reason}`);

const TIMEOUT_MS = 45_000;
const KEY = 'e2e-shared-key-7c1d';

describe.skipIf(reason !== undefined)('forward input with FORWARD_SHARED_KEY', () => {
  const runs: Scenario[] = [];
  afterAll(async () => {
    for (const s of runs) await s.close();
  });

  it(
    'the collector with the same key delivers every event',
    async () => {
      const s = await runScenario({
        format: 'conf',
        outputs: ['stdout'],
        generated: 200,
        collectorTimeoutMs: TIMEOUT_MS,
        fluentBitEnv: { FORWARD_SHARED_KEY: KEY, FORWARD_SELF_HOSTNAME: 'fluent-bit-e2e' },
        collectorArgs: ['--shared-key', KEY],
      });
      runs.push(s);
      expect(s.collector.code, s.collector.stderr.slice(-2000)).toBe(0);
      await s.fb.waitFor(() => s.fb.stdoutDocs.length >= s.expectedIds.length, TIMEOUT_MS, 'every document');
      expect(new Set(countIds(s.fb.stdoutDocs).keys())).toEqual(new Set(s.expectedIds));
    },
    TIMEOUT_MS * 2,
  );

  it(
    'a collector with a wrong key is refused and nothing is accepted',
    async () => {
      const s = await runScenario({
        format: 'conf',
        outputs: ['stdout'],
        generated: 50,
        // --once gives up after its retries; keep the run short.
        collectorTimeoutMs: 20_000,
        fluentBitEnv: { FORWARD_SHARED_KEY: KEY },
        collectorArgs: ['--shared-key', 'not-the-key'],
      });
      runs.push(s);
      expect(s.collector.code).not.toBe(0);
      expect(s.fb.stderr()).toMatch(/shared_key mismatch/);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(s.fb.stdoutDocs).toHaveLength(0);
    },
    TIMEOUT_MS * 2,
  );
});
