// The CLI's error paths as a user meets them, spawned against the simulator: the exit code the process returns is
// the one its log says; an unreadable key file, an unwritable state directory, a future checkpoint, an unresolvable
// --forward host and a --since that differs from the stored start each get one clear message naming the fix.
import { execSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamPaths } from '../../../input/collector/state/state.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { CLI, cleanEnv, runCli, startCli, type CliResult } from '../../support/run-cli.js';
import { httpGet } from '../../support/http-wait.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-errors-'));
chmodSync(dir, 0o755); // a non-root user (below) must reach the directories under it
let sim: Simulator;
let receiver: ForwardReceiver;
beforeAll(async () => {
  sim = await startSimulator({
    services: ['directory'],
    eventsPerMinute: 30,
    from: Date.now() - 30 * 60_000,
    to: 'live',
  });
  receiver = await startForwardReceiver();
});
afterAll(async () => {
  await sim.close();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [k: string]: unknown;
}

function logLines(r: CliResult): LogLine[] {
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Every exit code the log states, in order ('collector stopped' and 'exiting'). */
function loggedExitCodes(r: CliResult): unknown[] {
  return logLines(r)
    .filter((l) => 'exitCode' in l)
    .map((l) => l.exitCode);
}

/** One pass over the simulator's directory service; `since` null leaves --since at its default. */
function base(state: string, since: string | null = '10m'): string[] {
  return [
    '--once',
    '--api-url',
    sim.url,
    '--services',
    'directory',
    '--state-dir',
    state,
    ...(since !== null ? ['--since', since] : []),
    '--lag',
    '0s',
  ];
}

const env = (): Record<string, string> => ({ JUMPCLOUD_API_KEY: sim.apiKey });

describe('the logged exit code is the process exit code', () => {
  it('0: everything delivered', async () => {
    const r = await runCli([...base(join(dir, 'ok')), '--forward', `127.0.0.1:${receiver.port}`], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    expect(loggedExitCodes(r)).toEqual([0, 0]);
    expect(receiver.records.length).toBeGreaterThan(0);
  });

  it('1: Fluent Bit never acknowledged (delivery timeout)', async () => {
    const r = await runCli(
      [...base(join(dir, 'undelivered')), '--forward', '127.0.0.1:1', '--delivery-timeout', '1s'],
      { env: env(), timeoutMs: 60_000 },
    );
    expect(r.code).toBe(1);
    expect(loggedExitCodes(r)).toEqual([1, 1]);
  });

  it('3: the API refused the key; the collector stopped line says 3 too', async () => {
    const r = await runCli([...base(join(dir, 'refused')), '--forward', `127.0.0.1:${receiver.port}`], {
      env: { JUMPCLOUD_API_KEY: 'not-the-key' },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(3);
    const stopped = logLines(r).find((l) => l.msg === 'collector stopped');
    expect(stopped?.exitCode).toBe(3);
    expect(loggedExitCodes(r)).toEqual([3, 3]);
  });
});

const asRoot = process.getuid?.() === 0;

/**
 * Runs the CLI so that the permission checks can fail: as root, without the capabilities that let root write
 * anywhere (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so root is held to the permission bits like any user and still
 * reads a private checkout (a clone under /root or in a `mktemp -d`).
 */
function runAsUser(args: readonly string[], childEnv: Record<string, string> = env()): Promise<CliResult> {
  const caps = '-dac_override,-dac_read_search';
  const cmd = asRoot ? 'setpriv' : process.execPath;
  const argv = asRoot
    ? [`--inh-caps=${caps}`, `--bounding-set=${caps}`, process.execPath, '--import', 'tsx', CLI, ...args]
    : ['--import', 'tsx', CLI, ...args];
  const child = spawn(cmd, argv, { env: cleanEnv({ ...childEnv, HOME: dir }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '',
    stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs the fix the message prints (with every capability: as `sudo` would) and the CLI again: it works. */
async function fixAsPrinted(message: string, args: readonly string[]): Promise<void> {
  if (!asRoot) return; // not root: this process cannot give itself the access the fix grants
  const command = /`((?:sudo )?(?:chown|install) [^`]+)`/.exec(message)?.[1];
  expect(command, message).toBeDefined();
  execSync(command!.replaceAll('sudo ', '')); // this test runs as root already (and sudo may not be installed)
  const again = await runAsUser(args);
  expect(again.code, again.stderr.slice(-2000)).toBe(0);
}

describe('an unreadable key file', () => {
  it('exits 2 saying permission denied, naming the option and where it came from', async () => {
    const key = join(mkdtempSync(join(dir, 'key-')), 'api-key');
    writeFileSync(key, sim.apiKey);
    chmodSync(key, 0);
    const r = await runAsUser([...base(join(dir, 'key-state')), '--forward', `127.0.0.1:${receiver.port}`], {
      JUMPCLOUD_API_KEY_FILE: key,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/invalid --api-key \(from env JUMPCLOUD_API_KEY_FILE\): cannot read .*EACCES/);
  });
});

describe('an unwritable state directory', () => {
  it('exits 2 naming the directory and the fix, not a raw EACCES', async () => {
    const parent = mkdtempSync(join(dir, 'locked-'));
    chmodSync(parent, 0o755);
    chmodSync(parent, 0o555); // nobody but root may create the state directory in it
    const state = join(parent, 'state');
    const r = await runAsUser([...base(state), '--forward', `127.0.0.1:${receiver.port}`]);
    expect(r.code).toBe(2);
    const line = logLines(r).find((l) => l.level === 'error');
    expect(line?.msg).toContain(`cannot write the state directory ${state}`);
    expect(line?.msg).toMatch(/EACCES/);
    expect(line?.msg).toMatch(/write access .* or choose another directory with --state-dir/);
    expect(r.stderr).not.toMatch(/fetched again on the next start/);
    expect(loggedExitCodes(r)).toEqual([2]);
    await fixAsPrinted(line!.msg, [...base(state), '--forward', `127.0.0.1:${receiver.port}`]);
  });

  it('a stream directory in it left unwritable (say, by a first run as root) is named too', async () => {
    const state = mkdtempSync(join(dir, 'open-state-'));
    const streamDir = streamPaths(state, KEY).dir;
    mkdirSync(streamDir, { recursive: true });
    chmodSync(state, 0o777);
    chmodSync(streamDir, 0o555);
    const r = await runAsUser([...base(state), '--forward', `127.0.0.1:${receiver.port}`]);
    expect(r.code).toBe(2);
    const msg = logLines(r).find((l) => l.level === 'error')!.msg;
    expect(msg).toContain(`cannot write the state directory ${streamDir} (EACCES): `);
    expect(loggedExitCodes(r)).toEqual([2]);
    await fixAsPrinted(msg, [...base(state), '--forward', `127.0.0.1:${receiver.port}`]);
  });
});

describe('a --forward host that does not resolve', () => {
  // `.invalid` never resolves (RFC 2606), with or without a DNS server reachable.
  const host = 'nope.invalid';

  it('is reported as a name-resolution failure naming the host, not as "no Fluent Bit listening"', async () => {
    const r = await runCli([...base(join(dir, 'dns')), '--forward', `${host}:24224`, '--delivery-timeout', '2s'], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    const warn = logLines(r).find((l) => l.level === 'warn' && /cannot resolve/.test(l.msg));
    expect(warn?.msg).toContain(`cannot resolve the host of --forward ${host}:24224`);
    expect(String(warn?.error)).toMatch(
      new RegExp(
        `cannot resolve the Fluent Bit host "${host}" \\((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NODATA|EAI_NONAME)\\)`,
      ),
    );
    expect(r.stderr).not.toMatch(/Is its forward input listening there/);
    expect(loggedExitCodes(r)).toEqual([1, 1]);
  });

  it('in the demo, too', async () => {
    const cli = startCli([
      '--forward',
      `${host}:24224`,
      '--since',
      '5m',
      '--services',
      'directory',
      '--state-dir',
      join(dir, 'dns-demo'),
    ]);
    const deadline = Date.now() + 30_000;
    while (!/does not resolve/.test(cli.output().stderr) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    cli.child.kill('SIGINT');
    setTimeout(() => cli.child.kill('SIGKILL'), 5_000).unref();
    const r = await cli.done;
    expect(r.stderr).toContain(`cannot resolve the Fluent Bit host "${host}"`);
    expect(r.stderr).not.toMatch(/No Fluent Bit is listening/);
  });
});

async function waitFor<T>(fn: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const KEY = { org: '', service: 'directory' };

describe('a checkpoint later than now', () => {
  it('is a warning naming the file and the fix, and /healthz answers 503 saying why', async () => {
    const state = join(dir, 'future');
    const first = await runCli([...base(state), '--forward', `127.0.0.1:${receiver.port}`], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(first.code).toBe(0);
    const paths = streamPaths(state, KEY);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const saved = JSON.parse(readFileSync(paths.state, 'utf8')) as Record<string, unknown>;
    writeFileSync(paths.state, JSON.stringify({ ...saved, checkpoint: future }));

    const once = await runCli([...base(state), '--forward', `127.0.0.1:${receiver.port}`], {
      env: env(),
      timeoutMs: 60_000,
    });
    const warn = logLines(once).find((l) => l.level === 'warn' && /later than now/.test(l.msg));
    expect(warn?.msg).toContain(`checkpoint ${future} in ${paths.state} is later than now`);
    expect(warn?.msg).toContain('nothing is fetched until the clock passes it');
    expect(warn?.msg).toContain(`rm -f ${paths.state} ${paths.backup} ${paths.journal}`);
    expect(once.code).toBe(0);

    const cli = startCli(
      [
        ...base(state).filter((a) => a !== '--once'),
        '--forward',
        `127.0.0.1:${receiver.port}`,
        '--metrics-port',
        '0',
        '--interval',
        '1s',
      ],
      { env: env() },
    );
    try {
      const port = await waitFor(() => {
        const m = /"port":(\d+)[^\n]*metrics listening/.exec(cli.output().stderr);
        return m ? Number(m[1]) : undefined;
      }, 'the metrics port');
      await waitFor(() => (/later than now/.test(cli.output().stderr) ? true : undefined), 'the warning');
      const health = await httpGet(port, '/healthz');
      expect(health.status).toBe(503);
      const report = JSON.parse(health.body);
      expect(report).toMatchObject({ healthy: false, status: 'degraded' });
      expect(report.streams[0]).toMatchObject({ service: 'directory', status: 'waiting' });
      expect(report.streams[0].reason).toContain(`checkpoint ${future} in ${paths.state} is later than now`);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect((await cli.done).code).toBe(0);
  });
});

describe('a --since that differs from the stored start', () => {
  it('gets one line saying it is ignored and the command to start over, which works as printed', async () => {
    const state = join(dir, 'since');
    const args = (since: string | null): string[] => [...base(state, since), '--forward', `127.0.0.1:${receiver.port}`];
    const first = await runCli(args('10m'), { env: env(), timeoutMs: 60_000 });
    expect(first.code).toBe(0);
    const paths = streamPaths(state, KEY);
    const stored = JSON.parse(readFileSync(paths.state, 'utf8')).since as string;

    const second = await runCli(args('20m'), { env: env(), timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    const lines = logLines(second).filter((l) => /is ignored/.test(l.msg));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/^--since \S+ is ignored for stream directory: it resumes from its checkpoint/);
    expect(lines[0]!.msg).toContain(`its stored start is ${stored}, in ${paths.state}`);
    const command = /`(rm -f [^`]+)`/.exec(lines[0]!.msg)![1]!;
    expect(command).toBe(`rm -f ${paths.state} ${paths.backup} ${paths.journal}`);

    // Not given: nothing said (the default is not a request).
    const quiet = await runCli(args(null), { env: env(), timeoutMs: 60_000 });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/is ignored/);

    // The printed command, run as printed, makes the next start begin at --since.
    execSync(command);
    const third = await runCli(args('20m'), { env: env(), timeoutMs: 60_000 });
    expect(third.code).toBe(0);
    expect(third.stderr).not.toMatch(/is ignored/);
    expect(logLines(third).some((l) => l.msg === 'new stream: collecting from --since')).toBe(true);
  });

  it('a state file written before the start was stored still loads (the start is stored on the next save)', async () => {
    const state = join(dir, 'old-format');
    const paths = streamPaths(state, KEY);
    mkdirSync(paths.dir, { recursive: true });
    const checkpoint = new Date(Date.now() - 5 * 60_000).toISOString();
    writeFileSync(paths.state, JSON.stringify({ version: 1, org: '', service: 'directory', checkpoint }));
    const r = await runCli([...base(state), '--forward', `127.0.0.1:${receiver.port}`], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(paths.state, 'utf8')).since).toBe(checkpoint);
  });
});
