// Writes fixtures/ecs/ecs-8.11.0.json: Elastic's ECS 8.11.0 field definitions (generated/ecs/ecs_flat.yml of the
// elastic/ecs repository at tag v8.11.0) reduced to what test/unit/filter/ecs-schema.test.ts checks: each field's
// type, whether ECS normalizes it to an array, its allowed values and, for event.category, each category's
// expected event types. Run: node --import tsx test/unit/filter/reduce-ecs-flat.ts <path of ecs_flat.yml>
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';

interface FlatField {
  type: string;
  normalize?: string[];
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}

const path = process.argv[2];
if (!path) {
  console.error(
    'usage: node --import tsx test/unit/filter/reduce-ecs-flat.ts <ecs_flat.yml of elastic/ecs at v8.11.0>',
  );
  process.exit(2);
}
const text = readFileSync(path, 'utf8');
const flat = parse(text) as Record<string, FlatField>;
if (!flat['event.category']?.allowed_values)
  throw new Error(`${path} has no event.category allowed values: not an ecs_flat.yml`);

const fields: Record<string, unknown> = {};
for (const name of Object.keys(flat).sort()) {
  const f = flat[name]!;
  const out: Record<string, unknown> = { type: f.type };
  if (f.normalize?.includes('array')) out.array = true;
  if (f.allowed_values) {
    out.allowed = f.allowed_values.map((v) => v.name);
    const expected = f.allowed_values.filter((v) => v.expected_event_types);
    if (expected.length)
      out.expected_event_types = Object.fromEntries(expected.map((v) => [v.name, v.expected_event_types]));
  }
  fields[name] = out;
}
const sha256 = createHash('sha256').update(text).digest('hex');
const doc = { source: 'elastic/ecs, tag v8.11.0, generated/ecs/ecs_flat.yml', source_sha256: sha256, fields };
const out = new URL('../../../fixtures/ecs/ecs-8.11.0.json', import.meta.url);
// One field a line: reviewable, and diffs of a later ECS version stay readable.
const lines = Object.entries(fields).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
writeFileSync(
  out,
  `{\n "source": ${JSON.stringify(doc.source)},\n "source_sha256": "${sha256}",\n` +
    ` "fields": {\n${lines.join(',\n')}\n }\n}\n`,
);
console.log(`wrote ${Object.keys(fields).length} fields to ${out.pathname} (source sha256 ${sha256})`);
