// Runs the product for the end-to-end tests: a real Fluent Bit on the shipped configuration (its
// environment from conf/jumpcloud.env, ports and paths overridden), the collector CLI as a child process,
// and the DI simulator in this process. Every child is killed by `stop()`; every port is a free one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const FLUENT_BIT_BIN = process.env.FLUENT_BIT_BIN || undefined;
export const WASM = join(REPO, 'build/jumpcloud.wasm');

/**
 * Why the e2e suite cannot run here (FLUENT_BIT_BIN unset), or undefined when it can. Asked to run and missing
 * its input (a FLUENT_BIT_BIN that does not exist, no build/jumpcloud.wasm), it fails: it never passes as skipped.
 */
export function skipReason(): string | undefined {
  if (FLUENT_BIT_BIN === undefined)
    return (
      'FLUENT_BIT_BIN is not set (point it at a Fluent Bit 4.2+ binary, e.g. ' +
      'FLUENT_BIT_BIN=/usr/local/bin/fluent-bit npm run e2e)'
    );
  if (!existsSync(FLUENT_BIT_BIN))
    throw new Error(
      `FLUENT_BIT_BIN=${FLUENT_BIT_BIN} does not exist: point it at a Fluent Bit 4.2+ binary, or unset it to skip ` +
        `the tests that need one`,
    );
  if (!existsSync(WASM))
    throw new Error(`${WASM} is missing: run npm run build:filter (npm test and npm run e2e build it)`);
  return undefined;
}

/**
 * The Fluent Bit release lines the suite knows, each with what it does where they differ (README
 * "Supported Fluent Bit versions"). A test asserts its line's behaviour, so a change in either is noticed.
 */
export const KNOWN_LINES = ['4.2', '5.1'] as const;
export type FluentBitLine = (typeof KNOWN_LINES)[number];

export interface FluentBitVersion {
  readonly text: string;
  /** undefined: a release line the suite has no expectations for. */
  readonly line: FluentBitLine | undefined;
}

let versionCache: FluentBitVersion | undefined;

/** `fluent-bit --version` of FLUENT_BIT_BIN ("Fluent Bit v5.1.1"). */
export function fluentBitVersion(): FluentBitVersion {
  if (versionCache) return versionCache;
  const r = spawnSync(FLUENT_BIT_BIN!, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const m = /Fluent Bit v(\d+)\.(\d+)\.(\d+)/.exec(`${r.stdout}${r.stderr}`);
  if (!m) throw new Error(`${FLUENT_BIT_BIN} --version printed no "Fluent Bit vX.Y.Z": ${r.stdout}${r.stderr}`);
  const line = `${m[1]}.${m[2]}`;
  versionCache = {
    text: `${m[1]}.${m[2]}.${m[3]}`,
    line: (KNOWN_LINES as readonly string[]).includes(line) ? (line as FluentBitLine) : undefined,
  };
  return versionCache;
}

/** The release line of FLUENT_BIT_BIN; an unknown one is an error naming what to do. */
export function fluentBitLine(): FluentBitLine {
  const v = fluentBitVersion();
  if (v.line === undefined) {
    throw new Error(
      `Fluent Bit ${v.text} is not a release line this suite knows (${KNOWN_LINES.join(', ')}): ` +
        `run test/system/e2e on it and add what it does to the per-version expectations`,
    );
  }
  return v.line;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

/** conf/jumpcloud.env as a map: the defaults a user starts from. */
export function shippedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO, 'conf/jumpcloud.env'), 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export type Output = 'stdout' | 'es' | 'opensearch' | 'splunk';
export type Format = 'conf' | 'yaml';

export interface ConfigChoice {
  readonly format: Format;
  /** Outputs to enable: the documented edit, un-commenting their include lines. */
  readonly outputs: readonly Output[];
  /** false: the same file with `threaded off` (only to prove why the shipped one says on). */
  readonly threaded?: boolean;
  /** 'elastic': the documented profile switch (function_name + the es/opensearch output's Id_Key). Default 'ecs'. */
  readonly profile?: 'ecs' | 'elastic';
}

function edit(text: string, name: string, re: RegExp, replacement: string): string {
  if (!re.test(text))
    throw new Error(`${name} has no line matching ${re}: the shipped file changed, update the e2e harness`);
  return text.replace(re, replacement);
}

/**
 * The shipped files, copied to `dir` (main file + conf/), with exactly the edits the README tells users
 * to make: the include lines of the chosen outputs un-commented (the others commented), and for the
 * elastic profile the two commented alternative lines swapped in. Everything else is byte for byte the
 * shipped text; an expected line that is missing throws, so a change of the shipped files cannot
 * silently bypass the tests.
 */
export function writeConfig(dir: string, choice: ConfigChoice): string {
  const name = choice.format === 'conf' ? 'fluent-bit.conf' : 'fluent-bit.yaml';
  const elastic = choice.profile === 'elastic';
  let text = readFileSync(join(REPO, name), 'utf8');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  for (const out of ['stdout', 'es', 'opensearch', 'splunk'] as const) {
    const file = `conf/output-${out}.${choice.format}`;
    const esc = file.replace('.', '\\.');
    const on = choice.outputs.includes(out);
    text =
      choice.format === 'conf'
        ? edit(text, name, new RegExp(`^#?@INCLUDE ${esc}$`, 'm'), `${on ? '' : '#'}@INCLUDE ${file}`)
        : edit(text, name, new RegExp(`^  (# )?- ${esc}$`, 'm'), `  ${on ? '' : '# '}- ${file}`);
    let outText = readFileSync(join(REPO, file), 'utf8');
    if (elastic && (out === 'es' || out === 'opensearch')) {
      outText =
        choice.format === 'conf'
          ? edit(
              edit(
                outText,
                file,
                /^    Id_Key              \$jumpcloud\['id'\]$/m,
                "    #Id_Key             $jumpcloud['id']",
              ),
              file,
              /^    #Id_Key             \$event\['id'\]$/m,
              "    Id_Key              $event['id']",
            )
          : edit(outText, file, /^      id_key: \$jumpcloud\['id'\]$/m, "      id_key: $event['id']");
    }
    writeFileSync(join(dir, file), outText);
  }
  if (elastic) {
    text =
      choice.format === 'conf'
        ? edit(
            edit(
              text,
              name,
              /^    function_name             jumpcloud_ecs$/m,
              '    #function_name            jumpcloud_ecs',
            ),
            name,
            /^    #function_name            jumpcloud_elastic$/m,
            '    function_name             jumpcloud_elastic',
          )
        : edit(
            edit(text, name, /^      function_name: jumpcloud_ecs$/m, '      # function_name: jumpcloud_ecs'),
            name,
            /^      # function_name: jumpcloud_elastic$/m,
            '      function_name: jumpcloud_elastic',
          );
  }
  if (choice.threaded === false) {
    text = edit(text, name, choice.format === 'conf' ? /^(    threaded\s+)on$/m : /^(      threaded: )on$/m, '$1off');
  }
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface FluentBit {
  readonly forwardPort: number;
  readonly storagePath: string;
  /** Every stdout line that parsed as JSON (the stdout output's documents), in order. */
  readonly stdoutDocs: Record<string, unknown>[];
  /** stdout lines that did not parse (there must be none). */
  readonly stdoutJunk: string[];
  stderr(): string;
  /** Resolves when the condition holds; rejects on timeout or when Fluent Bit exits. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startFluentBit(configPath: string, env: Record<string, string>): Promise<FluentBit> {
  const forwardPort = Number(env.FORWARD_PORT);
  const child: ChildProcess = spawn(FLUENT_BIT_BIN!, ['-c', configPath], {
    // Classic @INCLUDE resolves a relative path against the working directory first, then against the
    // main file's directory: run where the configuration is, as the README says.
    cwd: dirname(configPath),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdoutDocs: Record<string, unknown>[] = [];
  const stdoutJunk: string[] = [];
  let err = '';
  let pending = '';
  let exited: number | null | undefined;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() === '') continue;
      try {
        stdoutDocs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stdoutJunk.push(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  // If the test process ends without stop() (a failed hook, Ctrl-C), do not leave Fluent Bit running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exit = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      exited = code;
      process.removeListener('exit', killOnExit);
      r(code);
    }),
  );

  const waitFor = async (predicate: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (exited !== undefined)
        throw new Error(`Fluent Bit exited (${exited}) while waiting for ${what}:\n${err.slice(-3000)}`);
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; Fluent Bit stderr tail:\n${err.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<number | null> => {
    if (exited !== undefined) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exit;
    clearTimeout(timer);
    return code;
  };
  try {
    await waitFor(
      () => new RegExp(`listening on [^ ]+:${forwardPort}\\b`).test(err),
      20_000,
      'the forward input to listen',
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    forwardPort,
    storagePath: env.JUMPCLOUD_STORAGE_PATH!,
    stdoutDocs,
    stdoutJunk,
    stderr: () => err,
    waitFor,
    stop,
  };
}

export interface CollectorRun {
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `node --import tsx input/cli.ts --once ...` to the end. */
export async function runCollector(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CollectorRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'input/cli.ts'), ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr: err };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
