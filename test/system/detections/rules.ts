// The Sigma rules of detections/sigma, as the tests and generators need them: one file per rule, whose first
// YAML document is the rule itself (a detection, or the outermost correlation) and whose others are the rules a
// correlation refers to. Parsing and evaluating them is left to real Sigma tools (pySigma, rsigma).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../e2e/pipeline-harness.js';

export const RULES_DIR = join(REPO, 'detections/sigma');

export interface RuleFile {
  /** The file name without .yml: the rule's name in detections/regression.yml and regression_data/. */
  readonly name: string;
  readonly path: string;
  readonly id: string;
  readonly title: string;
  readonly level: string;
  readonly date: string;
  /** The correlation type of the first document, or undefined for a detection rule. */
  readonly correlation?: string;
  /** ATT&CK and other tags of the first document. */
  readonly tags: readonly string[];
}

/** Every rule file, sorted by name. */
export function ruleFiles(dir = RULES_DIR): RuleFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => readRule(join(dir, f)));
}

function readRule(path: string): RuleFile {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const first = docs[0]?.toJS() as Record<string, any> | undefined;
  const name = path.replace(/^.*\//, '').replace(/\.yml$/, '');
  if (!first || typeof first.id !== 'string' || typeof first.title !== 'string' || typeof first.level !== 'string') {
    throw new Error(`${path}: the first document must be the rule, with id, title and level`);
  }
  return {
    name,
    path,
    id: first.id,
    title: first.title,
    level: first.level,
    date: String(first.date),
    correlation: first.correlation?.type,
    tags: first.tags ?? [],
  };
}
