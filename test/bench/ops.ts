// `npm run bench:ops`: WebAssembly operations per record of each profile, by function, on both record mixes,
// counted exactly in a Python interpreter (test/bench/wasm_ops.py, needs `pip install pywasm==2.2.3`). No
// Fluent Bit and no valgrind needed, and the counts do not move with the load: the A/B tool for the filter.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedMix, mix29 } from './records.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const wasm = join(root, 'build/jumpcloud.wasm');
const wat = join(root, 'build/jumpcloud.wat');
const python = process.env.PYTHON ?? 'python3';
const top = Number(process.env.BENCH_OPS_TOP ?? 8);

interface Profile {
  ops: number;
  free: number;
  functions: { function: string; ops: number; free: number }[];
}

if (!existsSync(wasm) || !existsSync(wat))
  throw new Error('build/jumpcloud.wasm or .wat is missing: run npm run build:filter');
const dir = mkdtempSync(join(tmpdir(), 'fbj-ops-'));
try {
  for (const [label, recs] of [
    ['seed', seedMix],
    ['2.9KB', mix29],
  ] as const) {
    const file = join(dir, `${label}.jsonl`);
    writeFileSync(file, recs.join('\n') + '\n');
    for (const fn of ['jumpcloud_ecs', 'jumpcloud_elastic']) {
      const r = spawnSync(python, [join(root, 'test/bench/wasm_ops.py'), wasm, wat, fn, file], {
        encoding: 'utf8',
        maxBuffer: 16 << 20,
      });
      if (r.error)
        throw new Error(`${python} did not run (${r.error.message}): set PYTHON to a Python 3.10+ with pywasm==2.2.3`);
      if (r.status !== 0) {
        process.stderr.write(r.stderr);
        process.exit(r.status ?? 1);
      }
      const p = JSON.parse(r.stdout) as Profile;
      console.log(
        `${label.padEnd(6)} ${fn}: ${Math.round(p.ops).toLocaleString()} operations a record ` +
          `(+ ${Math.round(p.free).toLocaleString()} local/const/block ones the interpreter folds)`,
      );
      for (const f of p.functions.slice(0, top))
        console.log(`    ${Math.round(f.ops).toString().padStart(7)}  ${f.function}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
