// Every rule of detections/sigma, evaluated by rsigma (a Sigma engine: RSIGMA_BIN) on the committed regression
// data of each profile it applies to (raw DI events, and the documents of jumpcloud_ecs and jumpcloud_elastic):
// on every case (each scenario, and the background alone) each rule raises exactly what detections/regression.yml
// says, 0 where it says nothing; mixed into the background, each scenario raises its own alerts plus the
// background's. In CI a missing rsigma fails; elsewhere this file skips, saying how to get one.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI } from '../opensearch/node.js';
import { expectedCounts, mixed, mixedCounts, readSample, ruleDir, rulesFor, type Sample } from './cases.js';
import { runRsigma } from './rsigma.js';
import { BACKGROUND, loadSpec, PROFILES, scenarioFiles, type Profile } from './spec.js';
import { rsigmaBin } from './tools.js';
import { resultTable, type Measured } from './table.js';

const rsigma = rsigmaBin();
if (rsigma.path === undefined && !IN_CI) console.warn(`test/system/detections/rsigma: skipped: ${rsigma.reason}`);

describe.runIf(rsigma.path === undefined && IN_CI)('rsigma in CI', () => {
  it('is installed (.ci/run builds it)', () => {
    throw new Error(`CI must evaluate the rules with rsigma: ${rsigma.reason}`);
  });
});

describe.runIf(rsigma.path !== undefined)('the rules on rsigma', () => {
  const spec = loadSpec();
  const cases = [BACKGROUND, ...scenarioFiles(spec)];
  const measured: Measured = {};
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (Object.keys(measured).length === 0) return;
    console.log(`rsigma: alerts per rule and profile\n${resultTable(spec, measured)}`);
  });

  describe.each(PROFILES)('%s', (profile: Profile) => {
    const rules = rulesFor(profile);
    let dir = '';
    let background: Sample;
    beforeAll(() => {
      dir = ruleDir(rules);
      dirs.push(dir);
      background = readSample(BACKGROUND, profile);
    });

    it.each(cases)('%s', async (c) => {
      const sample = readSample(c, profile);
      const run = await runRsigma(rsigma.path!, dir, profile, rules, sample.lines.join('\n') + '\n');
      expect(run.summary).toContain(`Processed ${sample.lines.length} events`);
      for (const [rule, n] of Object.entries(run.counts)) ((measured[rule] ??= {})[profile] ??= {})[c] = n;
      expect(run.counts).toEqual(expectedCounts(spec, c, rules));
    });

    it.each(scenarioFiles(spec))('%s, mixed into the background', async (c) => {
      const sample = mixed(readSample(c, profile), background);
      const run = await runRsigma(rsigma.path!, dir, profile, rules, sample.lines.join('\n') + '\n');
      expect(run.counts).toEqual(mixedCounts(spec, c, rules));
    });
  });
});
