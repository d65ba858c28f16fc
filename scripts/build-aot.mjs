#!/usr/bin/env node
// `npm run build:aot`: compiles build/jumpcloud.wasm ahead of time with WAMR's `wamrc` into build/jumpcloud.aot,
// which Fluent Bit's wasm filter loads in place of the .wasm (WAMR's AOT loading is on in Fluent Bit's default
// build) and runs as native code instead of in the interpreter: about 4x less CPU per record.
// The .aot must be made by the wamrc of the WAMR version the Fluent Bit vendors (5.1: WAMR 2.4.1), for the
// machine's architecture; Fluent Bit refuses a mismatch at start-up, it never runs a wrong file.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The WAMR that Fluent Bit 5.1 vendors (lib/wasm-micro-runtime-WAMR-2.4.1): its AOT format is what it loads. */
export const EXPECTED_WAMR = '2.4.1';

const HELP = `Usage: npm run build:aot [-- <in.wasm> <out.aot>]
       node scripts/build-aot.mjs [<in.wasm> <out.aot>]

Compiles the filter ahead of time with WAMR's wamrc (default build/jumpcloud.wasm -> build/jumpcloud.aot).
Then point the [FILTER]'s Wasm_Path at the .aot (or JUMPCLOUD_WASM_PATH=build/jumpcloud.aot with the
shipped fluent-bit.conf); Function_Name stays jumpcloud_ecs or jumpcloud_elastic.

Environment:
  WAMRC          path of wamrc (default: wamrc on PATH). It must be the wamrc of the WAMR your Fluent Bit
                 vendors: ${EXPECTED_WAMR} for Fluent Bit 5.1 (WAMR's release WAMR-${EXPECTED_WAMR} ships it:
                 https://github.com/bytecodealliance/wasm-micro-runtime/releases).
  WAMRC_TARGET   wamrc --target (default from this machine: x86_64 or aarch64v8)
  WAMRC_CPU      wamrc --cpu (default: a baseline CPU of that target, x86-64 or generic, so the file runs on any
                 machine of the architecture)`;

export class AotError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AotError';
  }
}

/** wamrc's path and version; throws AotError saying how to get one. */
export function findWamrc(env = process.env) {
  const bin = env.WAMRC || 'wamrc';
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new AotError(
      `cannot run wamrc (${bin}): ${r.error?.message ?? r.stderr.trim()}. ` +
        `Set WAMRC to the wamrc of WAMR ${EXPECTED_WAMR} (the WAMR Fluent Bit 5.1 vendors), from WAMR's release WAMR-${EXPECTED_WAMR}: https://github.com/bytecodealliance/wasm-micro-runtime/releases`,
    );
  }
  const version = /(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1] ?? 'unknown';
  return { bin, version };
}

/** The wamrc target and CPU for this machine (overridable); baseline CPUs so the file is portable. */
export function targetFor(arch = process.arch, env = process.env) {
  const known = { x64: ['x86_64', 'x86-64'], arm64: ['aarch64v8', 'generic'] }[arch];
  const target = env.WAMRC_TARGET || known?.[0];
  const cpu = env.WAMRC_CPU || known?.[1];
  if (!target || !cpu)
    throw new AotError(`no default wamrc target for the architecture ${arch}: set WAMRC_TARGET and WAMRC_CPU`);
  return { target, cpu };
}

/** Compiles `input` (.wasm) to `output` (.aot); returns the output's size in bytes. */
export function compileAot(wamrc, input, output, env = process.env) {
  if (!existsSync(input))
    throw new AotError(
      `${input} is missing: run npm run build:filter first (in a checkout; an installed package ships ` +
        'build/jumpcloud.wasm: give its path)',
    );
  const { target, cpu } = targetFor(process.arch, env);
  const args = [`--target=${target}`, `--cpu=${cpu}`, '--disable-simd', '-o', output, input];
  // Without hardware bounds checks (Fluent Bit on Windows), the compiled code must check every access itself.
  if (process.platform === 'win32') args.unshift('--bounds-checks=1');
  const r = spawnSync(wamrc.bin, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0 || !existsSync(output)) {
    const detail = (r.error?.message ?? r.stderr + r.stdout).trim().slice(-2000);
    throw new AotError(`wamrc ${args.join(' ')} failed (exit ${r.status}): ${detail}`);
  }
  return statSync(output).size;
}

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const [input = join(ROOT, 'build/jumpcloud.wasm'), output = join(ROOT, 'build/jumpcloud.aot')] = argv;
  try {
    const wamrc = findWamrc();
    if (wamrc.version !== EXPECTED_WAMR) {
      console.warn(
        `warning: ${wamrc.bin} is wamrc ${wamrc.version}; Fluent Bit 5.1 vendors WAMR ${EXPECTED_WAMR} and refuses ` +
          '.aot files of another AOT format version at start-up',
      );
    }
    const size = compileAot(wamrc, input, output);
    console.log(
      `${output}: ${size.toLocaleString('en-US')} bytes (wamrc ${wamrc.version}, ${targetFor().target}). ` +
        `In the [FILTER]: Wasm_Path ${output}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof AotError) {
      console.error(`build:aot: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));
