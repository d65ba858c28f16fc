// The filter compiled ahead of time (npm run build:aot) in a real Fluent Bit: simulator → collector → forward
// → wasm filter loading build/…/jumpcloud.aot → stdout. Every event arrives once, mapped exactly as the
// interpreted module maps it: the golden files for the seeds, the reference mapping for generated events.
// Needs FLUENT_BIT_BIN and WAMRC (the wamrc of the WAMR the Fluent Bit vendors); otherwise it says why and skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { dirname, join } from 'node:path';
import { compileAot, findWamrc } from '../../../scripts/build-aot.mjs';
import { expected as referenceMapping } from '../../unit/filter/reference.js';
import { WASM, skipReason, tempDir } from './pipeline-harness.js';
import { countIds, docId, runScenario, seeds, type Scenario } from './scenario.js';

const reason =
  skipReason() ??
  (process.env.WAMRC
    ? undefined
    : 'WAMRC is not set (point it at the wamrc of WAMR 2.4.1 to test the AOT-compiled filter)');
if (reason !== undefined) console.warn(`test/system/e2e/aot.test.ts skipped: ${reason}`);

const TIMEOUT_MS = 90_000;

describe.skipIf(reason !== undefined)('jumpcloud_ecs compiled ahead of time (wamrc) in a real Fluent Bit', () => {
  let s: Scenario;
  const tmp = tempDir('aot-');
  const golden = new Map(seeds().map((x) => [x.id, x.golden]));

  beforeAll(async () => {
    const aot = join(tmp.path, 'jumpcloud.aot');
    compileAot(findWamrc(), WASM, aot);
    s = await runScenario({
      format: 'conf',
      outputs: ['stdout'],
      generated: 2_000,
      collectorTimeoutMs: TIMEOUT_MS,
      fluentBitEnv: { JUMPCLOUD_WASM_PATH: aot, JUMPCLOUD_WASM_DIR: dirname(aot) },
    });
    expect(s.collector.code, s.collector.stderr.slice(-2000)).toBe(0);
    const n = s.expectedIds.length;
    await s.fb.waitFor(() => s.fb.stdoutDocs.length >= n, TIMEOUT_MS, `${n} documents`);
    await new Promise((r) => setTimeout(r, 2_000));
    await s.fb.stop();
  }, TIMEOUT_MS * 2);

  afterAll(async () => {
    await s?.close();
    tmp.remove();
  });

  it('every event arrives once', () => {
    const counts = countIds(s.fb.stdoutDocs);
    expect(new Set(counts.keys())).toEqual(new Set(s.expectedIds));
    expect([...counts].filter(([, c]) => c !== 1)).toEqual([]);
  });

  it('mapped as the golden files (seeds) and the reference mapping (generated events) say', () => {
    const bad: unknown[] = [];
    for (const d of s.fb.stdoutDocs) {
      const id = docId(d);
      const want =
        id !== undefined && golden.has(id)
          ? golden.get(id)
          : referenceMapping('ecs', JSON.stringify({ message: d.message }));
      if (!isDeepStrictEqual(d, want) && bad.length < 3) bad.push({ got: d, want });
    }
    expect(bad).toEqual([]);
  });
});
