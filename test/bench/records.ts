// The records the filter benchmarks run on: the ten seed samples as Fluent Bit's forward input receives them
// from the collector ({"message": "<raw event>"}), and the same events grown to ~2.9 KB (the size of the
// records the performance target was set on) with a realistic auth_context.
import { readFileSync, readdirSync } from 'node:fs';

const dir = new URL('../../fixtures/samples/', import.meta.url);
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith('.input.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Record<string, unknown>);

export const seedMix: string[] = seeds.map((e) => JSON.stringify({ message: JSON.stringify(e) }));

function grow(e: Record<string, unknown>, target: number): Record<string, unknown> {
  const policies: unknown[] = [];
  const out = { ...e, auth_context: { ...((e.auth_context as object) ?? {}), policies_applied: policies } };
  let i = 0;
  while (JSON.stringify({ message: JSON.stringify(out) }).length < target) {
    policies.push({
      id: `6480${String(i).padStart(20, '0')}`,
      name: `Conditional access policy ${i}`,
      metadata: { action: i % 2 ? 'ALLOW' : 'MFA', resource_type: 'APPLICATION' },
    });
    i++;
  }
  return out;
}

export const mix29: string[] = seeds.map((e) => JSON.stringify({ message: JSON.stringify(grow(e, 2900)) }));

export const avgBytes = (rs: string[]): number =>
  Math.round(rs.reduce((a, r) => a + Buffer.byteLength(r), 0) / rs.length);
