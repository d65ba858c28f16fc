// One collector per state directory: the real CLI, spawned against the in-process simulator and a forward receiver.
// A second collector on the same --state-dir exits 2 at once naming the holder; a lock left by kill -9 or a power
// loss (lock artifacts left, holder gone) does not block the next start; --print-config and --help take no lock.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  currentHolder,
  deadHolderReason,
  HOLDER_NAME,
  LOCK_NAME,
  pidAlive,
  STALE_MS,
  type LockHolder,
} from '../../../input/collector/state/lock.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { runCli, startCli } from '../../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-lock-'));
let sim: Simulator;
let rx: ForwardReceiver;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5, services: ['directory'], eventsPerMinute: 30 });
  rx = await startForwardReceiver({ seed: 1 });
});
afterAll(async () => {
  await sim.close();
  await rx.close();
  rmSync(dir, { recursive: true, force: true });
});

type Cli = ReturnType<typeof startCli>;
let running: Cli[] = [];
afterEach(() => {
  for (const c of running) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  running = [];
});

function collector(stateDir: string, extra: string[] = []): Cli {
  const c = startCli(
    [
      '--api-url',
      sim.url,
      '--services',
      'directory',
      '--forward',
      `127.0.0.1:${rx.port}`,
      '--state-dir',
      stateDir,
      '--interval',
      '1s',
      '--lag',
      '0',
      '--since',
      '10m',
      ...extra,
    ],
    {
      env: { JUMPCLOUD_API_KEY: sim.apiKey },
    },
  );
  running.push(c);
  return c;
}

async function waitLog(c: Cli, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(c.output().stderr)) {
    if (c.child.exitCode !== null)
      throw new Error(`the collector exited ${c.child.exitCode} before logging ${pattern}:\n${c.output().stderr}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${c.output().stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A PID that was just used and is no longer running. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** Lock artifacts as a holder that vanished would leave them (a power loss: no release ran). */
function leaveLock(stateDir: string, holder: LockHolder, ageMs = 0): void {
  mkdirSync(join(stateDir, LOCK_NAME), { recursive: true });
  writeFileSync(join(stateDir, HOLDER_NAME), JSON.stringify(holder));
  const t = new Date(Date.now() - ageMs);
  utimesSync(join(stateDir, LOCK_NAME), t, t);
}

describe('one collector per state directory', () => {
  it(
    'a second collector exits 2 within 10 s, naming the directory, the holder and what to do; the first keeps ' +
      'running',
    async () => {
      const state = mkdtempSync(join(dir, 'two-'));
      const first = collector(state);
      await waitLog(first, /collector starting/);
      const started = Date.now();
      const second = collector(state);
      const r = await second.done;
      const elapsed = Date.now() - started;
      expect(r.code).toBe(2);
      expect(elapsed).toBeLessThan(10_000);
      expect(r.stderr).toContain(
        `the state directory ${state} is in use by PID ${first.child.pid} on host ${hostname()}`,
      );
      expect(r.stderr).toMatch(/Stop the other collector, or give this one its own --state-dir/);
      expect(r.stderr).toContain(join(state, LOCK_NAME));
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
      // --print-config and --help do not take the lock.
      const printed = await runCli(['--print-config', '--api-url', sim.url, '--state-dir', state], {
        env: { JUMPCLOUD_API_KEY: sim.apiKey },
      });
      expect(printed.code).toBe(0);
      expect(JSON.parse(printed.stdout).stateDir).toBe(state);
      expect((await runCli(['--help', '--state-dir', state])).code).toBe(0);
      // The holder is unaffected: it still stops cleanly.
      expect(first.child.exitCode).toBeNull();
      first.child.kill('SIGTERM');
      expect((await first.done).code).toBe(0);
      // After a clean stop the directory is free again.
      expect(existsSync(join(state, LOCK_NAME))).toBe(false);
      const third = collector(state);
      await waitLog(third, /collector starting/);
      third.child.kill('SIGTERM');
      expect((await third.done).code).toBe(0);
    },
    90_000,
  );

  it('a lock left by kill -9 does not block the restart', async () => {
    const state = mkdtempSync(join(dir, 'kill-'));
    const first = collector(state);
    await waitLog(first, /collector starting/);
    // Killed once its stream has state (a kill before the first checkpoint is written is another matter).
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(state, '_default', 'directory.json')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    first.child.kill('SIGKILL');
    await first.done;
    expect(existsSync(join(state, LOCK_NAME))).toBe(true); // nothing released it
    const restarted = collector(state);
    await waitLog(restarted, /took over a stale lock/);
    await waitLog(restarted, /collector starting/);
    expect(restarted.output().stderr).toContain(`its holder, PID ${first.child.pid}, is not running`);
    restarted.child.kill('SIGTERM');
    const r = await restarted.done;
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it(
    'a stale lock after a power loss is taken over: holder PID dead on this host, or a lock not refreshed for the ' +
      'stale time',
    async () => {
      const self = currentHolder();
      const onThisHost = mkdtempSync(join(dir, 'power-'));
      leaveLock(onThisHost, { ...self, pid: deadPid(), startedAt: '2026-01-01T00:00:00.000Z' });
      const a = collector(onThisHost);
      await waitLog(a, /took over a stale lock/);
      await waitLog(a, /collector starting/);
      a.child.kill('SIGTERM');
      expect((await a.done).code).toBe(0);

      // Another host's holder cannot be checked: its lock is stale once its mtime is older than the stale time.
      const otherHost = mkdtempSync(join(dir, 'other-'));
      leaveLock(
        otherHost,
        { pid: 4242, host: 'collector-b.example', startedAt: '2026-01-01T00:00:00.000Z' },
        STALE_MS + 60_000,
      );
      const b = collector(otherHost);
      await waitLog(b, /collector starting/);
      b.child.kill('SIGTERM');
      expect((await b.done).code).toBe(0);

      // ... and while it is fresh, the start is refused with the other host named and how to take it over.
      const fresh = mkdtempSync(join(dir, 'fresh-'));
      leaveLock(fresh, { pid: 4242, host: 'collector-b.example', startedAt: '2026-01-01T00:00:00.000Z' });
      const r = await collector(fresh).done;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('in use by PID 4242 on host collector-b.example');
      expect(r.stderr).toMatch(/goes stale 10 s after its last refresh/);
      expect(r.stderr).toContain(
        `make sure nothing runs on collector-b.example with this directory and remove ${join(fresh, LOCK_NAME)}`,
      );
    },
    90_000,
  );
});

describe('deadHolderReason', () => {
  const self: LockHolder = { pid: 100, host: 'h1', bootId: 'b1', pidNamespace: 'pid:[1]', startedAt: 'x' };
  const alive = (pid: number): boolean => pid === 200;
  it('is dead only when that can be known from here', () => {
    expect(deadHolderReason({ ...self, pid: 300 }, self, alive)).toMatch(/PID 300, is not running/);
    expect(deadHolderReason({ ...self, pid: 100 }, self, alive)).toMatch(/is this process/);
    expect(deadHolderReason({ ...self, pid: 200, bootId: 'b0' }, self, alive)).toMatch(/rebooted/);
    expect(deadHolderReason({ ...self, pid: 200 }, self, alive)).toBeUndefined();
    expect(deadHolderReason({ ...self, pid: 300, host: 'h2' }, self, alive)).toBeUndefined();
    expect(deadHolderReason({ ...self, pid: 300, pidNamespace: 'pid:[2]' }, self, alive)).toBeUndefined();
  });
});

describe('pidAlive', () => {
  it.skipIf(!existsSync('/proc/self/stat'))(
    'a holder killed -9 and not yet reaped by its parent (a zombie) is not running',
    () => {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      const pid = child.pid!;
      expect(pidAlive(pid)).toBe(true);
      process.kill(pid, 'SIGKILL');
      // This synchronous loop keeps Node's event loop from reaping the child: it stays a zombie meanwhile.
      const state = (): string => {
        const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
        return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
      };
      for (const deadline = Date.now() + 5_000; state() !== 'Z';)
        if (Date.now() > deadline) throw new Error(`PID ${pid} did not become a zombie`);
      expect(() => process.kill(pid, 0)).not.toThrow(); // signal 0 still answers a zombie
      expect(pidAlive(pid)).toBe(false);
    },
  );
});
