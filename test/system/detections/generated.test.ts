// What is derived from the Sigma rules is current and well formed: the pySigma outputs (detections/generated, the
// add-on's savedsearches.conf) and the regression data are what `npm run detections` makes of the committed rules,
// scenarios, simulator and filter; `sigma check` finds nothing (the SigmaHQ validators that download their data
// excepted, and the ATT&CK ones run on the shipped ATT&CK subset instead); every rule has its positive and negative
// cases, and every scenario file is a case. Those that need pySigma fail in CI without it and skip elsewhere.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/pipeline-harness.js';
import { IN_CI } from '../opensearch/node.js';
import { QUERIES, regressionFiles, staleFiles } from './make-regression.js';
import { ruleFiles } from './rules.js';
import { loadSpec, scenarioFiles } from './spec.js';
import { sigmaCli, sigmaPython } from './tools.js';

/** SigmaHQ validators that load data from the network when they run (excluded from `sigma check`). */
const NEEDS_DOWNLOAD = [
  'attacktag',
  'd3_fendtag',
  'sigmahq_tags_techniques_without_tactics', // MITRE ATT&CK and D3FEND data
  'sigmahq_fieldname_cast',
  'sigmahq_invalid_fieldname',
  'sigmahq_redundant_field',
  'sigmahq_logsource_unknown',
  'sigmahq_filename_prefix', // SigmaHQ's taxonomy and filename data
];

const python = sigmaPython();
if (python.path === undefined && !IN_CI) {
  console.warn(`test/system/detections/generated: pySigma checks skipped: ${python.reason}`);
}

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the regression data', () => {
  const spec = loadSpec();
  it('is what npm run detections makes of the rules, the scenarios, the simulator and the filter', () => {
    expect(staleFiles(regressionFiles(spec))).toEqual([]);
  });

  it('covers every rule with positives that raise alerts and negatives that raise none', () => {
    const rules = ruleFiles();
    expect([...spec.rules.keys()].sort()).toEqual(rules.map((r) => r.name));
    for (const [name, cases] of spec.rules) {
      expect(cases.positive.length, name).toBeGreaterThan(0);
      expect(cases.negative.length, name).toBeGreaterThan(0);
      for (const c of cases.positive) expect(spec.expected.get(c)?.[name], `${name} on ${c}`).toBeGreaterThan(0);
      for (const c of cases.negative) expect(spec.expected.get(c)?.[name] ?? 0, `${name} on ${c}`).toBe(0);
    }
  });

  it('plays every scenario file, and every rule names its info.yml', () => {
    const files = ['scenarios', 'scenarios/near-misses'].flatMap((d) =>
      readdirSync(join(REPO, d))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `${d}/${f}`),
    );
    expect(scenarioFiles(spec)).toEqual(files.sort());
    for (const r of ruleFiles()) {
      expect(readFileSync(r.path, 'utf8')).toContain(`regression_tests_path: ../regression_data/${r.name}/info.yml\n`);
    }
  });
});

describe.runIf(python.path === undefined && IN_CI)('pySigma in CI', () => {
  it('is installed (.ci/run installs test/system/detections/requirements.txt)', () => {
    throw new Error(`CI must convert and check the rules with pySigma: ${python.reason}`);
  });
});

describe.runIf(python.path !== undefined)('the pySigma outputs', () => {
  it('are what test/system/detections/convert.py makes of the rules (npm run detections)', () => {
    const r = run(python.path!, ['test/system/detections/convert.py', '--check']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('sigma check finds no error and no issue', () => {
    const r = run(sigmaCli(python.path!), ['check', ...NEEDS_DOWNLOAD.flatMap((v) => ['-x', v]), 'detections/sigma']);
    const summary = r.out.slice(r.out.indexOf('=== Summary'));
    console.log(`sigma check, without ${NEEDS_DOWNLOAD.join(', ')}:\n${summary}`);
    expect(r.out).toContain('Found 0 errors, 0 condition errors and 0 issues.');
    expect(r.status).toBe(0);
  });

  it("the ATT&CK tags are ATT&CK's, each technique with its tactics (on the shipped ATT&CK subset)", () => {
    const r = run(python.path!, ['test/system/detections/check_attack.py']);
    expect(r.out).toMatch(/^\d+ rules, 0 ATT&CK tag issues$/m);
    expect(r.status).toBe(0);
  });
});

describe('the generated files', () => {
  type Entry = { id: string; profiles: Record<string, any> };
  const rules = (JSON.parse(readFileSync(QUERIES, 'utf8')) as { rules: Entry[] }).rules;
  const ids = new Set(rules.map((r) => r.id));
  it.each(['jumpcloud_ecs', 'jumpcloud_elastic'])('%s: Elastic rules and OpenSearch monitors ship disabled', (p) => {
    const kibana = readFileSync(join(REPO, `detections/generated/${p}/kibana-rules.ndjson`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const monitors = JSON.parse(readFileSync(join(REPO, `detections/generated/${p}/opensearch-monitors.json`), 'utf8'));
    const applies = rules.filter((r) => r.profiles[p].applies);
    expect(kibana.map((k) => k.rule_id).sort()).toEqual(
      applies
        .filter((r) => r.profiles[p].lucene?.query || r.profiles[p].esql?.query)
        .map((r) => r.id)
        .sort(),
    );
    for (const k of kibana) {
      expect(ids.has(k.rule_id)).toBe(true);
      expect(k).toMatchObject({ enabled: false, license: 'Apache-2.0' });
      if (k.language === 'esql') expect(k.query).toMatch(/^from logs-jumpcloud\.directory_insights-\* /);
      else expect(k).toMatchObject({ language: 'lucene', index: ['logs-jumpcloud.directory_insights-*'] });
    }
    expect(monitors.length).toBe(applies.filter((r) => r.profiles[p].opensearch_lucene.query).length);
    for (const m of monitors) {
      expect(m.enabled).toBe(false);
      expect(m.inputs[0].search.query.query.bool.filter[0].range['@timestamp'].gte).toMatch(/^\{\{period_end\}\}\|\|-/);
    }
  });
});
