#!/usr/bin/env node
// `npm start`'s build: rebuilds only what changed since the last build, and says what it does while it does it.
//   filter: asc, when build/jumpcloud.wasm is older than filter/*.ts, asconfig.json or the installed assemblyscript
//   input:  tsc, when dist/ is older than input/**/*.ts, tsconfig.json or the installed typescript
// An up-to-date checkout starts at once; `npm run build` still rebuilds everything.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p) => join(root, ...p);

/** Newest mtime (ms) of the files under `path` whose names end with one of `exts` (or of the file itself). */
function newest(path, exts = ['.ts']) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && exts.some((x) => e.name.endsWith(x)))
      max = Math.max(max, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return max;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -1);

const steps = [
  {
    name: 'filter',
    what: 'filter/ -> build/jumpcloud.wasm (AssemblyScript, optimized; about 20-40 s)',
    output: at('build', 'jumpcloud.wasm'),
    inputs: () =>
      Math.max(
        newest(at('filter')),
        mtime(at('asconfig.json')),
        mtime(at('node_modules', 'assemblyscript', 'package.json')),
      ),
    command: [
      process.execPath,
      [
        at('node_modules', 'assemblyscript', 'bin', 'asc.js'),
        'filter/index.ts',
        '--config',
        'asconfig.json',
        '--target',
        'release',
      ],
    ],
  },
  {
    name: 'collector',
    what: 'input/ -> dist/ (TypeScript; about 10-20 s)',
    // tsc (incremental) rewrites only changed outputs, so a stamp marks the last complete build.
    output: at('build', 'collector.stamp'),
    inputs: () =>
      Math.max(
        newest(at('input')),
        mtime(at('tsconfig.json')),
        mtime(at('node_modules', 'typescript', 'package.json')),
      ),
    command: [process.execPath, [at('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']],
    // Its mtime is the stamp.
    after: () => writeFileSync(at('build', 'collector.stamp'), `${new Date().toISOString()}\n`),
  },
];

function run(step) {
  return new Promise((resolve) => {
    const started = Date.now();
    const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
    process.stderr.write(`fluent-bit-jumpcloud: building the ${step.name}: ${step.what}\n`);
    // A line every 5 s, so a long first build visibly progresses (also when two builds run side by side).
    const ticker = setInterval(
      () => process.stderr.write(`fluent-bit-jumpcloud: still building the ${step.name} (${seconds()} s)\n`),
      5000,
    );
    const [cmd, args] = step.command;
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => {
      clearInterval(ticker);
      process.stderr.write(
        `fluent-bit-jumpcloud: cannot run the ${step.name} build: ${err.message}. Run npm install first.\n`,
      );
      resolve(1);
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) {
        step.after?.();
        process.stderr.write(
          `fluent-bit-jumpcloud: ${step.name} built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } else {
        process.stderr.write(
          `fluent-bit-jumpcloud: the ${step.name} build failed (exit ${code}); fix the error above, ` +
            'then run npm start again.\n',
        );
      }
      resolve(code ?? 1);
    });
  });
}

if (!existsSync(at('node_modules', 'typescript')) || !existsSync(at('node_modules', 'assemblyscript'))) {
  process.stderr.write('fluent-bit-jumpcloud: the build tools are not installed: run npm install first.\n');
  process.exit(1);
}
// Both builds are independent; run the stale ones side by side (the filter's asc is the long one).
const stale = steps.filter((s) => mtime(s.output) < s.inputs());
const codes = await Promise.all(stale.map(run));
process.exit(codes.find((c) => c !== 0) ?? 0);
