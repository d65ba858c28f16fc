// `npm run bench` (filter part): records/s of the wasm filter through the ABI harness, the 2,000,000-call
// memory check, and — when FLUENT_BIT_BIN points to a Fluent Bit — the time per record inside it for no
// filter, an identity wasm filter, the hand-written Lua peer and each profile, as ratios measured in one run;
// with WAMRC as well, the same filters compiled ahead of time (scripts/build-aot.mjs). BENCH_INSTRUCTIONS=1 counts
// instructions under valgrind instead of timing (a Fluent Bit built with -DFLB_VALGRIND=On).
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FilterHost, WASM_PATH } from '../../input/wasm/filter-host.js';
import { seedMix, mix29, avgBytes } from './records.js';
import { findWamrc, compileAot } from '../../scripts/build-aot.mjs';
import { slug } from './markdown.js';
import { writeResult } from './result.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const IDENTITY = join(root, 'build/identity.wasm');

function buildIdentity(): void {
  // Its own asconfig: asc would otherwise pick up the filter's and overwrite build/jumpcloud.*.
  execFileSync(
    join(root, 'node_modules/.bin/asc'),
    ['test/bench/identity/identity.ts', '--config', 'test/bench/identity/asconfig.json', '--target', 'release'],
    { cwd: root, stdio: 'inherit' },
  );
}

/**
 * build/jumpcloud.aot and build/identity.aot from the .wasm files (npm run build:aot's compiler), if a wamrc is found.
 */
function buildAot(): { filter: string; identity: string; version: string } | undefined {
  let wamrc: ReturnType<typeof findWamrc>;
  try {
    wamrc = findWamrc();
  } catch (e) {
    console.log(`  AOT-compiled filter: skipped (${(e as Error).message})`);
    return undefined;
  }
  const filter = join(root, 'build/jumpcloud.aot');
  const identity = join(root, 'build/identity.aot');
  compileAot(wamrc, WASM_PATH, filter);
  compileAot(wamrc, IDENTITY, identity);
  return { filter, identity, version: wamrc.version };
}

/** Calls per second of `fn` over the records for about `ms`. */
function harnessRate(host: FilterHost, fn: string, records: string[], ms = 1500): number {
  const bytes = records.map((r) => new TextEncoder().encode(r));
  for (let i = 0; i < 2000; i++) host.callBytes(fn, bytes[i % bytes.length]!);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 500; i++) host.callBytes(fn, bytes[(n + i) % bytes.length]!);
    n += 500;
  }
  return n / ((performance.now() - t0) / 1000);
}

function writeConf(dir: string, file: string, filter: string): string {
  const conf = join(dir, 'bench.conf');
  writeFileSync(join(dir, 'parsers.conf'), '[PARSER]\n    Name json\n    Format json\n');
  writeFileSync(
    conf,
    `[SERVICE]
    Flush 1
    Grace 1
    Log_Level error
    Parsers_File ${join(dir, 'parsers.conf')}
[INPUT]
    Name tail
    Path ${file}
    Read_From_Head true
    Exit_On_Eof true
    Parser json
    Buffer_Chunk_Size 1M
    Buffer_Max_Size 8M
    DB.locking false
${filter}
[OUTPUT]
    Name null
    Match *
`,
  );
  return conf;
}

function fluentBitRun(bin: string, dir: string, file: string, filter: string): number {
  const conf = writeConf(dir, file, filter);
  // CPU time of all its threads (perf's task-clock): steadier than wall time on a busy machine.
  const r = spawnSync('perf', ['stat', '-x', ',', '-e', 'task-clock', '--', bin, '-c', conf], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`fluent-bit exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const lines = r.stderr.trim().split('\n');
  const fbLog = lines.slice(0, -1).join('\n');
  if (/exception|overflow|\[error\]/i.test(fbLog)) throw new Error(`fluent-bit reported: ${fbLog.slice(-2000)}`);
  const msec = Number(lines[lines.length - 1]!.split(',')[0]);
  if (!Number.isFinite(msec)) throw new Error(`perf stat gave no task-clock: ${r.stderr.slice(-500)}`);
  return msec / 1000;
}

// Instructions instead of time (BENCH_INSTRUCTIONS=1): the same runs under valgrind's callgrind, exact and
// independent of the load. Fluent Bit must be built with -DFLB_VALGRIND=On (its coroutines otherwise confuse
// valgrind, and the run counts nothing). Besides the total, the functions a record's cost splits into.
const ATTRIBUTION: [string, string][] = [
  ['flb_msgpack_to_json_str', 'record to JSON'],
  ['wasm_runtime_call_wasm', 'the module (interpreted or AOT)'],
  ['wasm_runtime_validate_app_str_addr', 'result checked'],
  ['flb_pack_json', 'result to msgpack'],
  ['cb_parser_filter', 'parser filter'],
  ['flb_lua_pushmsgpack', 'record to Lua'],
  ['lua_pcall', 'the Lua mapping'],
  ['flb_lua_tomsgpack', 'result from Lua'],
];

interface Counted {
  total: number;
  parts: Record<string, number>;
}

function callgrindRun(bin: string, dir: string, file: string, filter: string): Counted {
  const conf = writeConf(dir, file, filter);
  const out = join(dir, 'callgrind.out');
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, bin, '-c', conf], {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  if (r.status !== 0) throw new Error(`valgrind fluent-bit exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const ann = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', out], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (ann.status !== 0) throw new Error(`callgrind_annotate failed: ${ann.stderr.slice(-500)}`);
  const parts: Record<string, number> = {};
  let total = 0;
  for (const line of ann.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]!.replaceAll(',', ''));
    if (m[2]!.startsWith('PROGRAM TOTALS')) {
      total = n;
      continue;
    }
    // `file:function [object]`; recursive entries (`function'2`) are already inside the outer one.
    const f = /:([\w.]+) \[/.exec(m[2]!)?.[1];
    if (f && ATTRIBUTION.some(([name]) => name === f)) parts[f] = Math.max(parts[f] ?? 0, n);
  }
  return { total, parts };
}

/** Instructions per record inside Fluent Bit: the slope between runs of n and 3n records, in thousands. */
function fluentBitInstructions(bin: string, records: string[], filter: string, n: number): Counted {
  return withRecordFiles(records, n, (dir, small, large) => {
    const a = callgrindRun(bin, dir, small, filter);
    const b = callgrindRun(bin, dir, large, filter);
    const per = (x: number, y: number): number => (y - x) / (2 * n) / 1000;
    const total = per(a.total, b.total);
    if (!(total > 0)) throw new Error(`callgrind counted nothing per record: is ${bin} built with -DFLB_VALGRIND=On?`);
    const parts: Record<string, number> = {};
    for (const [f] of ATTRIBUTION) if (b.parts[f] !== undefined) parts[f] = per(a.parts[f] ?? 0, b.parts[f]);
    return { total, parts };
  });
}

/** Runs `fn` with files of n and 3n records in a temporary directory (the slope's two runs). */
function withRecordFiles<T>(records: string[], n: number, fn: (dir: string, small: string, large: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'fbj-bench-'));
  try {
    const small = join(dir, 'small.log');
    const large = join(dir, 'large.log');
    const lines = (k: number): string =>
      Array.from({ length: k }, (_, i) => records[i % records.length]).join('\n') + '\n';
    writeFileSync(small, lines(n));
    writeFileSync(large, lines(3 * n));
    return fn(dir, small, large);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function instructionsTable(bin: string, out: Record<string, number>, aot: ReturnType<typeof buildAot>): void {
  const n = Number(process.env.BENCH_FB_RECORDS ?? 300);
  console.log(
    `== filter: instructions inside ${bin} (valgrind callgrind; tail -> filter -> null; ` +
      `slope of ${n} vs ${3 * n} records; thousands per record)`,
  );
  for (const [label, recs] of [
    ['seed', seedMix],
    ['2.9KB', mix29],
  ] as const) {
    const runs: [string, string][] = [
      ['no filter', ''],
      ['identity wasm', wasmFilter(IDENTITY, 'identity')],
      ['identity + one 8-byte-step pass', wasmFilter(IDENTITY, 'one_pass')],
      ['Lua peer (parser + lua)', luaPeer()],
      ['jumpcloud_ecs', wasmFilter(WASM_PATH, 'jumpcloud_ecs')],
      ['jumpcloud_elastic', wasmFilter(WASM_PATH, 'jumpcloud_elastic')],
    ];
    if (aot)
      runs.push(
        ['jumpcloud_ecs AOT', wasmFilter(aot.filter, 'jumpcloud_ecs')],
        ['jumpcloud_elastic AOT', wasmFilter(aot.filter, 'jumpcloud_elastic')],
      );
    const counted = runs.map(([name, filter]) => [name, fluentBitInstructions(bin, recs, filter, n)] as const);
    const lua = counted.find(([name]) => name.startsWith('Lua'))![1].total;
    for (const [name, c] of counted) {
      const key = `fb_${label}_${slug(name)}_kinstr`;
      out[key] = Math.round(c.total * 10) / 10;
      for (const [f, v] of Object.entries(c.parts)) out[`${key}_in_${f}`] = Math.round(v * 10) / 10;
      const parts = Object.entries(c.parts)
        .map(([f, v]) => `${ATTRIBUTION.find(([x]) => x === f)![1]} ${v.toFixed(1)}`)
        .join(', ');
      console.log(
        `  ${label.padEnd(6)} ${name.padEnd(34)} ${c.total.toFixed(1).padStart(8)}k = ` +
          `${(c.total / lua).toFixed(2)}x the Lua peer${parts ? ` (${parts})` : ''}`,
      );
    }
  }
}

/** µs per record inside Fluent Bit: the slope between runs of n and 3n records (start-up cancels out). */
function fluentBitPerRecord(bin: string, records: string[], filter: string, n: number): number {
  return withRecordFiles(records, n, (dir, small, large) => {
    const samples: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const a = fluentBitRun(bin, dir, small, filter);
      const b = fluentBitRun(bin, dir, large, filter);
      samples.push(((b - a) / (2 * n)) * 1e6);
    }
    samples.sort((x, y) => x - y);
    return samples[1]!;
  });
}

// The alternative a Fluent Bit user would write by hand: the native json parser on `message`, then a Lua mapping
// to the same Sekoia shape (test/bench/peer-lua/jumpcloud_ecs.lua).
const LUA_PEER = join(root, 'test/bench/peer-lua/jumpcloud_ecs.lua');
const luaPeer = (): string =>
  `[FILTER]\n    Name parser\n    Match *\n    Key_Name message\n    Parser json\n` +
  `    Preserve_Key On\n    Reserve_Data On\n` +
  `[FILTER]\n    Name lua\n    Match *\n    script ${LUA_PEER}\n    call cb\n`;

const wasmFilter = (path: string, fn: string): string =>
  `[FILTER]\n    Name wasm\n    Match *\n    Wasm_Path ${path}\n    Function_Name ${fn}\n` +
  `    Event_Format json\n    Accessible_Paths ${root}\n`;

export async function run(): Promise<Record<string, number>> {
  if (!existsSync(WASM_PATH)) throw new Error('build/jumpcloud.wasm is missing: run npm run build:filter');
  if (!existsSync(LUA_PEER)) throw new Error(`${LUA_PEER} is missing: the Lua peer the filter is measured against`);
  buildIdentity();
  const out: Record<string, number> = {};
  console.log(
    `\n== filter: harness (Node's wasm engine), seed mix of ${seedMix.length} records, avg ${avgBytes(seedMix)} B; ` +
      `2.9 KB mix avg ${avgBytes(mix29)} B`,
  );
  const host = new FilterHost();
  const id = new FilterHost(IDENTITY);
  for (const [label, recs] of [
    ['seed', seedMix],
    ['2.9KB', mix29],
  ] as const) {
    const base = harnessRate(id, 'identity', recs);
    const ecs = harnessRate(host, 'jumpcloud_ecs', recs);
    const el = harnessRate(host, 'jumpcloud_elastic', recs);
    out[`harness_${label}_identity_rps`] = Math.round(base);
    out[`harness_${label}_ecs_rps`] = Math.round(ecs);
    out[`harness_${label}_elastic_rps`] = Math.round(el);
    console.log(
      `  ${label.padEnd(6)} identity ${Math.round(base).toLocaleString()} rec/s | ` +
        `jumpcloud_ecs ${Math.round(ecs).toLocaleString()} rec/s (${(base / ecs).toFixed(2)}x identity time) | ` +
        `jumpcloud_elastic ${Math.round(el).toLocaleString()} rec/s (${(base / el).toFixed(2)}x)`,
    );
  }

  const mem = new FilterHost();
  const bytes = seedMix.map((r) => new TextEncoder().encode(r));
  for (let i = 0; i < 10_000; i++) mem.callBytes('jumpcloud_ecs', bytes[i % bytes.length]!);
  const before = mem.memoryBytes;
  const t0 = performance.now();
  for (let i = 0; i < 2_000_000; i++)
    mem.callBytes(i & 1 ? 'jumpcloud_ecs' : 'jumpcloud_elastic', bytes[i % bytes.length]!);
  out.memory_after_10k_bytes = before;
  out.memory_after_2m_bytes = mem.memoryBytes;
  console.log(
    `  memory: ${before} bytes after 10,000 calls, ${mem.memoryBytes} bytes after 2,000,000 more ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );

  const bin = process.env.FLUENT_BIT_BIN;
  if (!bin) {
    console.log('  inside Fluent Bit: skipped (set FLUENT_BIT_BIN to a Fluent Bit 4.2+ binary to measure)');
    return out;
  }
  // With a wamrc (WAMRC, or wamrc on PATH), the same run also measures the filters compiled ahead of time.
  const aot = buildAot();
  if (process.env.BENCH_INSTRUCTIONS === '1') {
    instructionsTable(bin, out, aot);
    return out;
  }
  const n = Number(process.env.BENCH_FB_RECORDS ?? 20_000);
  console.log(
    `== filter: inside ${bin} (tail -> filter -> null; CPU time, slope of ${n} vs ${3 * n} records, median of 3)`,
  );
  for (const [label, recs] of [
    ['2.9KB', mix29],
    ['seed', seedMix],
  ] as const) {
    const none = fluentBitPerRecord(bin, recs, '', n);
    const ident = fluentBitPerRecord(bin, recs, wasmFilter(IDENTITY, 'identity'), n);
    const pass = fluentBitPerRecord(bin, recs, wasmFilter(IDENTITY, 'one_pass'), n);
    const ecs = fluentBitPerRecord(bin, recs, wasmFilter(WASM_PATH, 'jumpcloud_ecs'), n);
    const el = fluentBitPerRecord(bin, recs, wasmFilter(WASM_PATH, 'jumpcloud_elastic'), n);
    const lua = fluentBitPerRecord(bin, recs, luaPeer(), n);
    Object.assign(out, {
      [`fb_${label}_none_us`]: none,
      [`fb_${label}_identity_us`]: ident,
      [`fb_${label}_one_pass_us`]: pass,
      [`fb_${label}_ecs_us`]: ecs,
      [`fb_${label}_elastic_us`]: el,
      [`fb_${label}_lua_peer_us`]: lua,
      [`fb_${label}_ecs_over_identity`]: ecs / ident,
      [`fb_${label}_elastic_over_identity`]: el / ident,
      [`fb_${label}_ecs_over_lua`]: ecs / lua,
      [`fb_${label}_elastic_over_lua`]: el / lua,
    });
    console.log(
      `  ${label.padEnd(6)} no filter ${none.toFixed(1)} µs | identity wasm ${ident.toFixed(1)} µs | ` +
        `identity + one 8-byte-step pass ${pass.toFixed(1)} µs = ${(pass / ident).toFixed(2)}x | ` +
        `Lua peer (parser + lua) ${lua.toFixed(1)} µs`,
    );
    console.log(
      `  ${label.padEnd(6)} jumpcloud_ecs ${ecs.toFixed(1)} µs = ${(ecs / ident).toFixed(2)}x identity, ` +
        `${(ecs / lua).toFixed(2)}x the Lua peer (target <= 1.0x) | ` +
        `jumpcloud_elastic ${el.toFixed(1)} µs = ${(el / ident).toFixed(2)}x identity, ` +
        `${(el / lua).toFixed(2)}x the Lua peer (target <= 1.5x)`,
    );
    if (aot) {
      const identAot = fluentBitPerRecord(bin, recs, wasmFilter(aot.identity, 'identity'), n);
      const ecsAot = fluentBitPerRecord(bin, recs, wasmFilter(aot.filter, 'jumpcloud_ecs'), n);
      const elAot = fluentBitPerRecord(bin, recs, wasmFilter(aot.filter, 'jumpcloud_elastic'), n);
      Object.assign(out, {
        [`fb_${label}_identity_aot_us`]: identAot,
        [`fb_${label}_ecs_aot_us`]: ecsAot,
        [`fb_${label}_elastic_aot_us`]: elAot,
        [`fb_${label}_ecs_aot_over_identity`]: ecsAot / ident,
        [`fb_${label}_elastic_aot_over_identity`]: elAot / ident,
      });
      Object.assign(out, {
        [`fb_${label}_ecs_aot_over_lua`]: ecsAot / lua,
        [`fb_${label}_elastic_aot_over_lua`]: elAot / lua,
      });
      console.log(
        `  ${label.padEnd(6)} AOT (wamrc ${aot.version}): identity ${identAot.toFixed(1)} µs | ` +
          `jumpcloud_ecs ${ecsAot.toFixed(1)} µs = ${(ecsAot / ident).toFixed(2)}x identity wasm, ` +
          `${(ecsAot / lua).toFixed(2)}x the Lua peer | ` +
          `jumpcloud_elastic ${elAot.toFixed(1)} µs = ${(elAot / ident).toFixed(2)}x, ` +
          `${(elAot / lua).toFixed(2)}x the Lua peer`,
      );
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  run().then(writeResult, (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
