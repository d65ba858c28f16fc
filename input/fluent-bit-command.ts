// `fluent-bit-jumpcloud fluent-bit-command`: prints a shell command that starts Fluent Bit with the shipped
// pipeline of THIS install (checkout or npm package), for a demo or a first try: the variables come from the
// shipped conf/jumpcloud.env, except the three production paths, which point at this install's module and at
// a writable temporary storage directory. conf/jumpcloud.env itself keeps the production defaults.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseForward } from './config.js';
import { packageInfo, selfCommand } from './package-info.js';
import { shellWord } from './shell.js';
import type { ForwardTarget } from './types.js';

export interface FluentBitCommandOptions {
  /** fluent-bit.yaml instead of fluent-bit.conf. */
  readonly yaml?: boolean;
  /** Where Fluent Bit buffers chunks (default: a fixed directory under the temp directory). */
  readonly storagePath?: string;
  /** The module to load (default this install's build/jumpcloud.wasm), e.g. the AOT-compiled build/jumpcloud.aot. */
  readonly wasm?: string;
  /** The Fluent Bit executable (default `fluent-bit`, found on PATH). */
  readonly fluentBit?: string;
  /** The forward input's address, when it is not the env file's 127.0.0.1:24224. */
  readonly forward?: ForwardTarget;
  /** The HTTP server's port (on 127.0.0.1), when it is not the env file's 2020: the collector's --fluent-bit-http. */
  readonly httpPort?: number;
  /** Arguments appended to Fluent Bit's command line, e.g. --dry-run. */
  readonly extraArgs?: readonly string[];
}

/** The default demo storage path: temporary, writable by anyone who runs the demo. */
function demoStoragePath(): string {
  return join(tmpdir(), 'fluent-bit-jumpcloud-storage');
}

/**
 * A POSIX sh command (one line, in a subshell so the caller's shell keeps its variables): cd to the package
 * (the @INCLUDE paths are relative), load conf/jumpcloud.env, override the paths, exec Fluent Bit.
 */
export function fluentBitCommand(options: FluentBitCommandOptions = {}): string {
  const root = packageInfo().root;
  const wasm = options.wasm !== undefined ? resolve(options.wasm) : join(root, 'build', 'jumpcloud.wasm');
  const overrides: Array<[string, string]> = [
    ['JUMPCLOUD_WASM_PATH', wasm],
    ['JUMPCLOUD_WASM_DIR', dirname(wasm)],
    ['JUMPCLOUD_STORAGE_PATH', options.storagePath ?? demoStoragePath()],
  ];
  if (options.forward?.kind === 'tcp')
    overrides.push(['FORWARD_LISTEN', options.forward.host], ['FORWARD_PORT', String(options.forward.port)]);
  if (options.httpPort !== undefined) overrides.push(['FLUENT_BIT_HTTP_PORT', String(options.httpPort)]);
  const conf = options.yaml ? 'fluent-bit.yaml' : 'fluent-bit.conf';
  const args = [options.fluentBit ?? 'fluent-bit', '-c', conf, ...(options.extraArgs ?? [])].map(shellWord);
  return (
    `(cd ${shellWord(root)} && set -a && . ./conf/jumpcloud.env && set +a && ` +
    `${overrides.map(([k, v]) => `${k}=${shellWord(v)}`).join(' ')} exec ${args.join(' ')})`
  );
}

const help = (root: string, self: string): string =>
  `Usage: fluent-bit-jumpcloud fluent-bit-command [--yaml] [--wasm FILE] [--storage-path DIR] [--forward ` +
  `HOST:PORT] [--http-port PORT] [--fluent-bit BIN] [-- FLUENT-BIT-ARGS...]

Prints a shell command (POSIX sh, one line) that starts Fluent Bit with the pipeline shipped in this install:
  ${root}/fluent-bit.conf (or .yaml), its variables loaded from ${root}/conf/jumpcloud.env, except
  JUMPCLOUD_WASM_PATH / JUMPCLOUD_WASM_DIR   this install's build/jumpcloud.wasm
  JUMPCLOUD_STORAGE_PATH                     a writable temporary directory (default ${demoStoragePath()})
so it runs as printed, without root: for the demo and a first try. Then run fluent-bit-jumpcloud beside it.
Production keeps the defaults of conf/jumpcloud.env (module in /usr/local/share/fluent-bit-jumpcloud,
buffers in /var/lib/fluent-bit/jumpcloud): copy the files there, see the README ("Run it with your Fluent Bit").

Options:
  --yaml               use fluent-bit.yaml instead of fluent-bit.conf
  --wasm FILE          the module to load instead of build/jumpcloud.wasm, e.g. build/jumpcloud.aot (npm run build:aot)
  --storage-path DIR   where Fluent Bit buffers chunks (filesystem storage)
  --forward HOST:PORT  the forward input's address (default 127.0.0.1:24224 from conf/jumpcloud.env)
  --http-port PORT     the HTTP server's port on 127.0.0.1 (default 2020): give the collector
                       --fluent-bit-http 127.0.0.1:PORT
  --fluent-bit BIN     the Fluent Bit executable (default: env FLUENT_BIT_BIN, else fluent-bit on PATH)
  -- ARGS...           appended to Fluent Bit's arguments, e.g. -- --dry-run
  -h, --help           this text

Run it:  sh -c "$(${self} fluent-bit-command)"   or paste the printed line.
`;

/** --forward's value: a TCP address (the shipped pipeline listens on TCP), or undefined once the error is said. */
function forwardOption(v: string): ForwardTarget | undefined {
  let forward: ForwardTarget;
  try {
    forward = parseForward(v);
  } catch (err) {
    process.stderr.write(`fluent-bit-jumpcloud fluent-bit-command: --forward ${v}: ${(err as Error).message}\n`);
    return undefined;
  }
  if (forward.kind === 'tcp') return forward;
  process.stderr.write(
    `fluent-bit-jumpcloud fluent-bit-command: --forward ${v}: the shipped pipeline listens on TCP: give HOST:PORT\n`,
  );
  return undefined;
}

/** The subcommand: 0 printed, 2 bad arguments. */
export function runFluentBitCommandCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const options: {
    yaml?: boolean;
    wasm?: string;
    storagePath?: string;
    forward?: ForwardTarget;
    httpPort?: number;
    fluentBit?: string;
    extraArgs?: string[];
  } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | undefined => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) {
        process.stderr.write(
          `fluent-bit-jumpcloud fluent-bit-command: ${a} needs a value\nRun ${selfCommand()} fluent-bit-command ` +
            `--help to see every option.\n`,
        );
        return undefined;
      }
      return v;
    };
    if (a === '-h' || a === '--help') {
      process.stdout.write(help(packageInfo().root, selfCommand()));
      return 0;
    } else if (a === '--yaml') {
      options.yaml = true;
    } else if (a === '--storage-path') {
      const v = value();
      if (v === undefined) return 2;
      options.storagePath = v;
    } else if (a === '--wasm') {
      const v = value();
      if (v === undefined) return 2;
      if (!existsSync(v)) {
        process.stderr.write(
          `fluent-bit-jumpcloud fluent-bit-command: --wasm ${v}: no such file (in a checkout build it: npm run ` +
            `build:filter, or npm run build:aot for the .aot; for an installed package see the README's ` +
            `"Ahead-of-time compilation")\n`,
        );
        return 2;
      }
      options.wasm = v;
    } else if (a === '--forward') {
      const v = value();
      const forward = v === undefined ? undefined : forwardOption(v);
      if (forward === undefined) return 2;
      options.forward = forward;
    } else if (a === '--http-port') {
      const v = value();
      if (v === undefined) return 2;
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
        process.stderr.write(`fluent-bit-jumpcloud fluent-bit-command: --http-port ${v}: expected a port (1-65535)\n`);
        return 2;
      }
      options.httpPort = Number(v);
    } else if (a === '--fluent-bit') {
      const v = value();
      if (v === undefined) return 2;
      options.fluentBit = v;
    } else if (a === '--') {
      options.extraArgs = argv.slice(i + 1);
      break;
    } else {
      process.stderr.write(
        `fluent-bit-jumpcloud fluent-bit-command: unknown argument ${a}\nRun ${selfCommand()} fluent-bit-command ` +
          `--help to see every option.\n`,
      );
      return 2;
    }
  }
  const bin =
    options.fluentBit ??
    (env.FLUENT_BIT_BIN !== undefined && env.FLUENT_BIT_BIN !== '' ? env.FLUENT_BIT_BIN : undefined);
  process.stdout.write(`${fluentBitCommand({ ...options, ...(bin !== undefined ? { fluentBit: bin } : {}) })}\n`);
  return 0;
}
