// Evaluates documents with rsigma, a Sigma engine (not one written here): every rule of a directory, through a
// profile's pipeline, over NDJSON on stdin; counts the alerts of each rule file's own rule (a detection: one per
// matching event; a correlation: one per group, re-alerts within an hour suppressed, as a scheduled SIEM alert
// with suppression raises it). The detections and correlations that only feed a correlation are not counted.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../e2e/pipeline-harness.js';
import type { RuleFile } from './rules.js';
import type { Profile } from './spec.js';

/** How long a correlation alert suppresses the next of its group. */
export const SUPPRESS = '1h';

export interface RsigmaRun {
  /** Rule name → alerts. */
  readonly counts: Record<string, number>;
  /** rsigma's own summary line ("Processed N events, …"). */
  readonly summary: string;
}

/** rsigma's arguments for a profile (raw: no pipeline). */
export function rsigmaArgs(rulesDir: string, profile: Profile): string[] {
  const pipeline = profile === 'raw' ? [] : ['-p', join(REPO, `detections/pipelines/${profile}.yml`)];
  return [
    'engine',
    'eval',
    '-r',
    rulesDir,
    ...pipeline,
    '--suppress',
    SUPPRESS,
    '--no-detections',
    '--output-format',
    'ndjson',
  ];
}

export function runRsigma(
  bin: string,
  rulesDir: string,
  profile: Profile,
  rules: readonly RuleFile[],
  ndjson: string,
): Promise<RsigmaRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, rsigmaArgs(rulesDir, profile), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`rsigma ${rsigmaArgs(rulesDir, profile).join(' ')} exited ${code}: ${err.slice(-2000)}`));
        return;
      }
      const byId = new Map(rules.map((r) => [r.id, r.name]));
      const counts: Record<string, number> = Object.fromEntries(rules.map((r) => [r.name, 0]));
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const name = byId.get((JSON.parse(line) as { rule_id?: string }).rule_id ?? '');
        if (name !== undefined) counts[name]! += 1;
      }
      resolve({ counts, summary: err.split('\n').find((l) => l.startsWith('Processed')) ?? '' });
    });
    child.stdin.on('error', () => {
      /* rsigma exited early: its status says why */
    });
    child.stdin.end(ndjson);
  });
}
