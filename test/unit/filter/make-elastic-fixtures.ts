// Writes fixtures/elastic/: the Elastic-shape expectation of every seed input and of the Elastic seed's own
// admin-login example, derived by the reference mapping (test/unit/filter/reference.ts) from the spec's field table.
// Run: node --import tsx test/unit/filter/make-elastic-fixtures.ts  (review the diff by hand: these are goldens).
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { expected } from './reference.js';

const root = new URL('../../../', import.meta.url);
const samples = new URL('fixtures/samples/', root);
const out = new URL('fixtures/elastic/', root);
mkdirSync(out, { recursive: true });

// The seed's example event: its event.original is the raw admin_login_attempt the integration received.
const seed = readFileSync(new URL('fixtures/elastic-seed-example.json', root), 'utf8');
const original = (JSON.parse(seed) as { event: { original: string } }).event.original;
writeFileSync(new URL('seed_admin_login.input.json', out), original + '\n');

const inputs: [string, string][] = [['seed_admin_login', original]];
for (const f of readdirSync(samples)
  .filter((f) => f.endsWith('.input.json'))
  .sort()) {
  inputs.push([f.replace('.input.json', ''), readFileSync(new URL(f, samples), 'utf8').trim()]);
}
for (const [name, raw] of inputs) {
  const doc = expected('elastic', JSON.stringify({ message: raw }));
  writeFileSync(new URL(`${name}.expected.json`, out), JSON.stringify(doc, null, 2) + '\n');
}
console.log(`wrote ${inputs.length} expectations to ${out.pathname}`);
