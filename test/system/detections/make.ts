// `npm run detections`: regenerates everything derived from the Sigma rules, in order:
//   1. detections/generated/ and the add-on's savedsearches.conf (pySigma: test/system/detections/convert.py),
//      which also say which profile each rule applies to;
//   2. detections/regression_data/ (the simulator's scenarios and background through build/jumpcloud.wasm).
// With --check nothing is written and the exit status is 1 when a committed file is stale (CI runs the tests,
// which check the same). pySigma comes from SIGMA_PYTHON, else .venv-sigma/bin/python:
//   python3 -m venv .venv-sigma && .venv-sigma/bin/pip install -r test/system/detections/requirements.txt
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from '../e2e/pipeline-harness.js';
import { committed, regressionFiles, staleFiles } from './make-regression.js';
import { sigmaPython } from './tools.js';

function convert(check: boolean): number {
  const python = sigmaPython();
  if (python.path === undefined) {
    console.error(python.reason);
    return 1;
  }
  const args = [join(REPO, 'test/system/detections/convert.py'), ...(check ? ['--check'] : [])];
  return spawnSync(python.path, args, { stdio: 'inherit' }).status ?? 1;
}

function regression(check: boolean): number {
  const files = regressionFiles();
  if (check) {
    const bad = staleFiles(files);
    for (const p of bad) console.error(`stale: ${p}`);
    if (bad.length > 0) console.error('run `npm run detections` and commit the result');
    return bad.length > 0 ? 1 : 0;
  }
  for (const p of committed()) if (!files.has(p)) rmSync(join(REPO, p));
  for (const [p, text] of files) {
    mkdirSync(dirname(join(REPO, p)), { recursive: true });
    writeFileSync(join(REPO, p), text);
  }
  console.log(`wrote ${files.size} regression files (${[...files.values()].reduce((n, t) => n + t.length, 0)} bytes)`);
  return 0;
}

const check = process.argv.includes('--check');
if (process.argv.slice(2).some((a) => a !== '--check')) {
  console.error('usage: npm run detections [-- --check]');
  process.exitCode = 2;
} else {
  process.exitCode = convert(check) || regression(check);
}
