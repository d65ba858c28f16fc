// The measured alerts of each rule as a Markdown table, per profile: on its positive cases, its negative cases and
// the background (detections/regression.yml says which are which). The tests print it; detections/README.md
// quotes it.
import { BACKGROUND, PROFILES, type Profile, type Spec } from './spec.js';

/** rule name → profile → case → alerts, as measured. */
export type Measured = Record<string, Partial<Record<Profile, Record<string, number>>>>;

function cell(
  byCase: Record<string, number> | undefined,
  positive: readonly string[],
  negative: readonly string[],
): string {
  if (byCase === undefined) return 'n/a';
  const sum = (cases: readonly string[]) => cases.reduce((n, c) => n + (byCase[c] ?? NaN), 0);
  return `${sum(positive)} / ${sum(negative)} / ${byCase[BACKGROUND] ?? NaN}`;
}

export function resultTable(spec: Spec, measured: Measured, profiles: readonly Profile[] = PROFILES): string {
  const head = `| rule | ${profiles.join(' | ')} |\n| --- |${profiles.map(() => ' --- |').join('')}`;
  const rows = [...spec.rules]
    .sort(([a], [b]) => a.localeCompare(b))
    .filter(([name]) => measured[name])
    .map(([name, cases]) => {
      const cells = profiles.map((p) => cell(measured[name]![p], cases.positive, cases.negative));
      return `| \`${name}\` | ${cells.join(' | ')} |`;
    });
  const legend = "(positive / negative / background alerts; n/a: the profile's pipeline refuses the rule)";
  return `${head}\n${rows.join('\n')}\n${legend}`;
}
