// `npm run bench`: every benchmark, each in its own process so one's memory and JIT state do not colour
// another's. Not part of the tests. FLUENT_BIT_BIN adds the measurements inside a real Fluent Bit.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const benches: [string, string][] = [
  ['filter (wasm, harness and Fluent Bit)', 'test/bench/filter.bench.ts'],
  ['forward client', 'test/bench/forward.bench.ts'],
  ['DI client and page splitter', 'test/bench/di.bench.ts'],
  ['simulator: page assembly, memory of many org streams', 'test/bench/simulator.bench.ts'],
  ['collector end to end and backfill', 'test/bench/collector.bench.ts'],
  ['overlap cost in live mode (downloads and requests per poll)', 'test/bench/overlap.bench.ts'],
  ['scale: 1,000 orgs live, multi-stream backfill', 'test/bench/scale.bench.ts'],
];
const only = process.argv[2];
let failed = 0;
for (const [name, file] of benches) {
  if (only && !file.includes(only)) continue;
  console.log(`\n######## ${name} (${file})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`######## ${name}: exited ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
