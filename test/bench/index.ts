// `npm run bench [-- NAME] [--markdown FILE]`: every benchmark (or the one named: filter, forward, di, simulator,
// collector, overlap, scale), each in its own process so one's memory and JIT state do not colour another's. Not
// part of the tests. FLUENT_BIT_BIN adds the measurements inside a real Fluent Bit. With --markdown, each benchmark
// that succeeds replaces its section of FILE (docs/performance.md) with its figures, the machine, the date, the
// load and the command that reproduces them (markdown.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchMachine, type BenchOutcome, renderSection, replaceSection } from './markdown.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const benches: [string, string][] = [
  ['filter (wasm, harness and Fluent Bit)', 'test/bench/filter.bench.ts'],
  ['forward client', 'test/bench/forward.bench.ts'],
  ['DI client and page splitter', 'test/bench/di.bench.ts'],
  ['simulator: page assembly, memory of many org streams', 'test/bench/simulator.bench.ts'],
  ['collector end to end and backfill', 'test/bench/collector.bench.ts'],
  ['overlap cost in live mode (downloads and requests per poll)', 'test/bench/overlap.bench.ts'],
  ['scale: 1,000 and 5,000 orgs live, multi-stream backfill', 'test/bench/scale.bench.ts'],
];

function parseArgs(argv: string[]): { only?: string; markdown?: string } {
  const out: { only?: string; markdown?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--markdown' || a.startsWith('--markdown=')) {
      out.markdown = a === '--markdown' ? argv[++i] : a.slice('--markdown='.length);
      if (!out.markdown) usage('--markdown needs a file, e.g. --markdown docs/performance.md');
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else out.only = a;
  }
  return out;
}

function usage(problem: string): never {
  console.error(`npm run bench: ${problem}\nusage: npm run bench [-- NAME] [--markdown FILE]`);
  process.exit(2);
}

const short = (file: string): string => path.basename(file, '.bench.ts');

/** The section a benchmark writes: the filter's instruction count is a section of its own. */
const sectionId = (file: string): string =>
  short(file) === 'filter' && process.env.BENCH_INSTRUCTIONS === '1' ? 'filter-instructions' : short(file);

/** The command that runs this benchmark again with the same settings (paths of tools left to the reader). */
function command(file: string): string {
  const env = Object.keys(process.env)
    .filter((k) => (k.startsWith('BENCH_') && k !== 'BENCH_RESULT_FILE') || k === 'PYTHON')
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  if (short(file) === 'filter') {
    if (process.env.FLUENT_BIT_BIN) env.unshift('FLUENT_BIT_BIN=/path/to/fluent-bit');
    if (process.env.WAMRC) env.unshift('WAMRC=/path/to/wamrc');
  }
  return [...env, 'npm run bench --', short(file)].join(' ');
}

function fluentBitVersion(file: string): string | undefined {
  const bin = process.env.FLUENT_BIT_BIN;
  if (short(file) !== 'filter' || !bin) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.stdout.split('\n')[0]?.trim() || `Fluent Bit at ${bin}`;
}

function machine(file: string, loadBefore: number[], date: Date): BenchMachine {
  const fluentBit = fluentBitVersion(file);
  return {
    date: `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadBefore,
    loadAfter: os.loadavg(),
    ...(fluentBit ? { fluentBit } : {}),
    command: command(file),
  };
}

/** Runs one benchmark, its output shown as it comes and kept; resolves with its exit status. */
function runBench(file: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env,
      stdio: ['inherit', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      process.stdout.write(b);
      stdout += b.toString('utf8');
    });
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

const { only, markdown } = parseArgs(process.argv.slice(2));
const doc = markdown ? path.resolve(process.env.INIT_CWD ?? process.cwd(), markdown) : undefined;
if (doc && !existsSync(doc)) usage(`${doc} does not exist (its sections are written into an existing page)`);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'fbj-bench-results-'));
let failed = 0;
let ran = 0;
for (const [name, file] of benches) {
  if (only && short(file) !== only && !file.includes(only)) continue;
  ran++;
  console.log(`\n######## ${name} (${file})`);
  const resultFile = path.join(tmp, `${short(file)}.json`);
  const loadBefore = os.loadavg();
  const date = new Date();
  const r = await runBench(file, { ...process.env, BENCH_RESULT_FILE: resultFile });
  if (r.status !== 0) {
    failed++;
    console.log(`######## ${name}: exited ${r.status}${doc ? ' (its section is left as it was)' : ''}`);
    continue;
  }
  if (!doc) continue;
  const results = existsSync(resultFile)
    ? (JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, number>)
    : undefined;
  const outcome: BenchOutcome = { id: sectionId(file), stdout: r.stdout, ...(results ? { results } : {}) };
  writeFileSync(
    doc,
    replaceSection(readFileSync(doc, 'utf8'), outcome.id, renderSection(outcome, machine(file, loadBefore, date))),
  );
  console.log(`######## ${name}: figures written to ${path.relative(process.cwd(), doc)} (section ${outcome.id})`);
}
rmSync(tmp, { recursive: true, force: true });
if (ran === 0) usage(`no benchmark is named ${only}: ${benches.map(([, f]) => short(f)).join(', ')}`);
process.exit(failed ? 1 : 0);
