// The real tools the detections are proven with, found where CI installs them: rsigma (a Sigma engine, built from
// crates.io by .ci/run into a cache) and pySigma (pinned in test/system/detections/requirements.txt, in .venv-sigma).
// In CI a missing tool fails the tests that need it; elsewhere they skip, saying how to get it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../e2e/pipeline-harness.js';

export type Found =
  { readonly path: string; readonly reason?: undefined } | { readonly path?: undefined; readonly reason: string };

/** rsigma 0.23: RSIGMA_BIN. */
export function rsigmaBin(): Found {
  const bin = process.env.RSIGMA_BIN;
  if (bin && existsSync(bin)) return { path: bin };
  const how =
    'cargo install rsigma --version 0.23.0 --locked --no-default-features --features rsigma-runtime ' +
    '--root ~/.cache/rsigma (about 25 minutes on 2 cores), then RSIGMA_BIN=~/.cache/rsigma/bin/rsigma';
  return { reason: bin ? `RSIGMA_BIN=${bin} does not exist: ${how}` : `RSIGMA_BIN is not set: ${how}` };
}

/** The Python that has the pinned pySigma set: SIGMA_PYTHON, else .venv-sigma/bin/python. */
export function sigmaPython(): Found {
  const python = process.env.SIGMA_PYTHON || join(REPO, '.venv-sigma/bin/python');
  if (existsSync(python)) return { path: python };
  return {
    reason:
      `no Python with pySigma at ${python}: python3 -m venv .venv-sigma && .venv-sigma/bin/pip install -r ` +
      'test/system/detections/requirements.txt (or set SIGMA_PYTHON)',
  };
}

/** `sigma` (sigma-cli) beside that Python. */
export function sigmaCli(python: string): string {
  return join(python, '..', 'sigma');
}
