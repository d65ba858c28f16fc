// Where test/system/splunk finds Splunk's tools and the add-on, and how it packages a copy of the add-on.
// .ci/run installs the pinned tools (requirements.txt) into .venv-splunk; SPLUNK_TOOLS_VENV names another venv.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_DIR, ADDON_NAME } from './conf.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
export const VENV = process.env.SPLUNK_TOOLS_VENV || join(ROOT, '.venv-splunk');
export const APPINSPECT = join(VENV, 'bin', 'splunk-appinspect');
export const VENV_PYTHON = join(VENV, 'bin', 'python');
export const HAVE_TOOLS = existsSync(APPINSPECT) && existsSync(VENV_PYTHON);
export const MISSING_TOOLS =
  `Splunk's tools are not installed in ${VENV}: python3 -m venv .venv-splunk && ` +
  '.venv-splunk/bin/pip install -r test/system/splunk/requirements.txt ' +
  '(or set SPLUNK_TOOLS_VENV to a venv that has them)';
export const EXAMPLE_SAVEDSEARCHES = fileURLToPath(new URL('fixtures/savedsearches.example.conf', import.meta.url));

/** A fresh copy of the add-on in a temp dir (its path), with the example savedsearches.conf when asked. */
export function addonCopy(withExample: boolean): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'splunk-addon-')), ADDON_NAME);
  cpSync(ADDON_DIR, dir, { recursive: true });
  if (withExample) cpSync(EXAMPLE_SAVEDSEARCHES, join(dir, 'default', 'savedsearches.conf'));
  return dir;
}

/** Runs scripts/build-splunk.py (npm run build:splunk) on an add-on directory; returns the .tgz path and its output. */
export function buildPackage(app: string, out: string): { tgz: string; stdout: string } {
  // SOURCE_DATE_EPOCH unset: the packager's own fixed time, which package.test.ts expects.
  const env = { ...process.env };
  delete env.SOURCE_DATE_EPOCH;
  const stdout = execFileSync('python3', [join(ROOT, 'scripts', 'build-splunk.py'), '--app', app, '--out', out], {
    encoding: 'utf8',
    env,
  });
  const tgz = readdirSync(out).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`build-splunk.py left ${tgz.length} .tgz files in ${out}`);
  return { tgz: join(out, tgz[0]!), stdout };
}
