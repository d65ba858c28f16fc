// The regression cases as the tests read them back from the committed samples (detections/regression_data): each
// case's documents in a profile, alone or mixed into the background in time order, and the rules that apply to a
// profile with what each must raise.
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRfc3339 } from '../../../input/di/rfc3339.js';
import { REPO } from '../e2e/pipeline-harness.js';
import { applicableProfiles, samplePath } from './make-regression.js';
import { ruleFiles, type RuleFile } from './rules.js';
import { BACKGROUND, type Profile, type Spec } from './spec.js';

export interface Sample {
  /** The documents' JSON texts, in time order. */
  readonly lines: readonly string[];
  /** Each document's time (epoch ms), from its raw event. */
  readonly ms: readonly number[];
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** A case's committed sample in a profile, with the times of its raw events. */
export function readSample(c: string, profile: Profile): Sample {
  const raw = lines(readFileSync(join(REPO, samplePath(c, 'raw')), 'utf8'));
  const docs = profile === 'raw' ? raw : lines(readFileSync(join(REPO, samplePath(c, profile)), 'utf8'));
  if (docs.length !== raw.length) {
    throw new Error(`${samplePath(c, profile)}: ${docs.length} documents for ${raw.length} raw events`);
  }
  const ms = raw.map((r) => {
    const t = parseRfc3339((JSON.parse(r) as { timestamp: string }).timestamp);
    if (!t) throw new Error(`${samplePath(c, 'raw')}: an event without an RFC 3339 timestamp: ${r.slice(0, 200)}`);
    return t.ms;
  });
  return { lines: docs, ms };
}

/** Two samples merged in time order (the first's documents first at equal times). */
export function mixed(a: Sample, b: Sample): Sample {
  const out: string[] = [];
  const ms: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.lines.length || j < b.lines.length) {
    const takeA = j >= b.lines.length || (i < a.lines.length && a.ms[i]! <= b.ms[j]!);
    out.push(takeA ? a.lines[i]! : b.lines[j]!);
    ms.push(takeA ? a.ms[i++]! : b.ms[j++]!);
  }
  return { lines: out, ms };
}

/** The rules that apply to a profile (their pipeline accepts them), from detections/generated/queries.json. */
export function rulesFor(profile: Profile): RuleFile[] {
  const applies = applicableProfiles();
  return ruleFiles().filter((r) => applies[r.name]?.includes(profile));
}

/** A directory holding (links to) exactly these rule files: a rules path for rsigma, which loads all or nothing. */
export function ruleDir(rules: readonly RuleFile[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'detections-rules-'));
  for (const r of rules) symlinkSync(r.path, join(dir, `${r.name}.yml`));
  return dir;
}

/** What each rule must raise on a case: rule name → alerts (0 where the spec lists nothing). */
export function expectedCounts(spec: Spec, c: string, rules: readonly RuleFile[]): Record<string, number> {
  const e = spec.expected.get(c) ?? {};
  return Object.fromEntries(rules.map((r) => [r.name, e[r.name] ?? 0]));
}

/** The counts of a case mixed into the background: its own, plus the background's, plus what the mix adds. */
export function mixedCounts(spec: Spec, c: string, rules: readonly RuleFile[]): Record<string, number> {
  const own = expectedCounts(spec, c, rules);
  const bg = expectedCounts(spec, BACKGROUND, rules);
  const extra = spec.mixed.get(c) ?? {};
  return Object.fromEntries(rules.map((r) => [r.name, own[r.name]! + bg[r.name]! + (extra[r.name] ?? 0)]));
}
