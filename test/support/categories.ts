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
  return pattern
    .slice(open + 1, close)
    .split(',')
    .flatMap((alt) => expand(head + alt + tail));
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
      if (out.has(t))
        throw new Error(`filter/categories.ts: ${t} is declared twice (${out.get(t)!.row.pattern}, ${row.pattern})`);
      const outcome = row.outcome === '' ? undefined : (row.outcome as 'success' | 'failure');
      out.set(t, { kind: row.kind, category: list(row.category), type: list(row.types), outcome, row });
    }
  }
  return out;
}

const BEGIN =
  '<!-- categories: written by `node --import tsx test/unit/filter/make-categories-doc.ts` ' +
  'from filter/categories.ts -->';
const END = '<!-- end of categories -->';
const code = (s: string): string => '`' + s + '`';
const codes = (list: string): string => list.split(',').map(code).join(', ');

/** The generated part of docs/ecs-mapping.md: the declaration as tables, with its counts. */
export function categoriesDoc(): string {
  const table = categoryTable();
  const patterns = ROWS.filter((r) => r.pattern.includes('{')).length;
  const lines = [
    BEGIN,
    `${ROWS.length} lines (${patterns} of them patterns) declaring ${table.size} event types. ` +
      "A pattern's `{a,b}` stands for",
    'each alternative; the count says how many types a line declares.',
    '',
    '| event type | count | `event.kind` | `event.category` | `event.type` | `event.outcome` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...ROWS.map(
      (r) =>
        `| ${code(r.pattern)} | ${expand(r.pattern).length} | ${code(r.kind)} | ${codes(r.category)} | ` +
        `${codes(r.types)} | ${r.outcome ? code(r.outcome) : ''} |`,
    ),
    '',
    'A `resource` of these types fills, besides `jumpcloud.event.resource`:',
    '',
    '| `resource.type` | fills |',
    '| --- | --- |',
    ...TARGETS.map((t) => `| ${code(t.type)} | ${code(t.object + '.*')} |`),
    END,
  ];
  return lines.join('\n');
}

/** `doc` with its generated part replaced by `part`; throws when the markers are missing. */
export function withCategoriesDoc(doc: string, part: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a)
    throw new Error(`docs/ecs-mapping.md: the markers of the categories table are missing (${BEGIN} … ${END})`);
  return doc.slice(0, a) + part + doc.slice(b + END.length);
}
