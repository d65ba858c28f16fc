// The categorization declaration (filter/categories.ts) read from TypeScript: its patterns expanded to the types
// they stand for, as the filter expands them at start-up. Used by the reference mapping, the ECS schema test and
// the doc generator.
import { ROWS, TARGETS, type Row } from '../../filter/categories.js';

export { ROWS, TARGETS, type Row };

/** The types a pattern stands for: each `{a,b}` group replaced by each alternative, in order. */
export function expand(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  const close = pattern.indexOf('}', open);
  if (close < 0) throw new Error(`filter/categories.ts: pattern ${pattern} has a { without its }`);
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  return pattern.slice(open + 1, close).split(',').flatMap((alt) => expand(head + alt + tail));
}

export interface Categorized {
  readonly kind: string;
  readonly category: string[];
  readonly type: string[];
  readonly outcome?: 'success' | 'failure';
  readonly row: Row;
}

const list = (s: string): string[] => s.split(',');

/** Every declared type → its categorization. Throws when a type is declared twice. */
export function categoryTable(): Map<string, Categorized> {
  const out = new Map<string, Categorized>();
  for (const row of ROWS) {
    for (const t of expand(row.pattern)) {
      if (out.has(t)) throw new Error(`filter/categories.ts: ${t} is declared twice (${out.get(t)!.row.pattern}, ${row.pattern})`);
      const outcome = row.outcome === '' ? undefined : (row.outcome as 'success' | 'failure');
      out.set(t, { kind: row.kind, category: list(row.category), type: list(row.types), outcome, row });
    }
  }
  return out;
}
