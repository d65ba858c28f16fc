// Splunk AppInspect, the checker Splunk Cloud runs on every app it installs, on the package npm run build:splunk
// makes: `splunk-appinspect inspect <tgz> --mode precert --included-tags cloud` finds no failure and no error,
// for the add-on as it is and with the example savedsearches.conf the detections generator is expected to write.
// In CI (.ci/run installs the pinned tools into .venv-splunk) a missing AppInspect is a failure; elsewhere the
// test skips and says how to get it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { APPINSPECT, HAVE_TOOLS, IN_CI, MISSING_TOOLS, addonCopy, buildPackage } from './tools.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'appinspect-'));
const copies: string[] = [];
afterAll(() => {
  for (const d of [work, ...copies]) rmSync(d, { recursive: true, force: true });
});

if (!HAVE_TOOLS && !IN_CI) console.warn(`test/system/splunk/appinspect.test.ts: skipped: ${MISSING_TOOLS}`);

interface Summary {
  error: number;
  failure: number;
  future_failure: number;
  skipped: number;
  not_applicable: number;
  warning: number;
  success: number;
  manual_check?: number;
}
interface Report {
  summary: Summary;
  reports: Array<{
    groups: Array<{ checks: Array<{ name: string; result: string; messages: Array<{ message: string }> }> }>;
  }>;
}

/** AppInspect's JSON report of one package; its failures, errors and warnings with their messages. */
async function inspect(tgz: string, name: string): Promise<{ summary: Summary; notable: string[] }> {
  const out = join(work, `${name}.json`);
  // cwd: the temp dir, so that nothing AppInspect leaves lands in the repository.
  await run(
    APPINSPECT,
    ['inspect', tgz, '--mode', 'precert', '--included-tags', 'cloud', '--data-format', 'json', '--output-file', out],
    { cwd: work, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: { stdout?: string; stderr?: string }) => {
    if (!existsSync(out))
      throw new Error(`splunk-appinspect did not report: ${err.stderr ?? ''}${err.stdout ?? ''}`.slice(-4000));
  });
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const notable = report.reports
    .flatMap((r) => r.groups.flatMap((g) => g.checks))
    .filter((c) => !['success', 'not_applicable'].includes(c.result))
    .map((c) => `${c.result} ${c.name}: ${c.messages.map((m) => m.message).join(' | ')}`);
  return { summary: report.summary, notable };
}

describe.skipIf(!HAVE_TOOLS && !IN_CI)('splunk-appinspect --mode precert --included-tags cloud', () => {
  for (const [name, example] of [
    ['add-on', false],
    ['add-on with the example savedsearches.conf', true],
  ] as const) {
    it(`${name}: no failure, no error`, async () => {
      if (!HAVE_TOOLS) throw new Error(MISSING_TOOLS);
      const app = addonCopy(example);
      copies.push(dirname(app));
      const { tgz } = buildPackage(app, join(work, example ? 'with-example' : 'plain'));
      const { summary, notable } = await inspect(tgz, example ? 'with-example' : 'plain');
      console.log(`AppInspect ${name}: ${JSON.stringify(summary)}${notable.length ? `\n${notable.join('\n')}` : ''}`);
      expect(summary.failure, notable.join('\n')).toBe(0);
      expect(summary.error, notable.join('\n')).toBe(0);
      expect(summary.success).toBeGreaterThan(50);
    }, 120_000);
  }
});
