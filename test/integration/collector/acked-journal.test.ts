// The restart oracle against the receiver double's HTTP server (Fluent Bit's /api/v1/uptime and /api/v1/metrics):
// the uptime bound and the rule that decides an ack from it, acked chunks confirmed (or sent again, and said why) at a
// restart, and an input Fluent Bit does not list. The uptime runs on a manual clock: no test waits for seconds to pass.
// (The journal's acked@ lines and the order of a restart's decisions: test/unit/collector/seen-ids.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decideRestart, IdBatch, SeenIds } from '../../../input/collector/delivery/index.js';
import { FluentBitOracle } from '../../../input/collector/oracle/index.js';
import { LEDGER_FILE } from '../../../input/collector/oracle/send-ledger.js';
import { FluentBitUptime, storedSince } from '../../../input/collector/oracle/uptime.js';
import { ConfigError, loadConfig } from '../../../input/config.js';
import { manualClock, memoryLogger } from '../../support/fakes.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';

const stream = { org: 'o', service: 'directory' };
const hex = (i: number): string => i.toString(16).padStart(24, '0');
const T0 = Date.parse('2026-03-01T12:00:00.250Z');
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

function stateDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'acked-journal-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A Fluent Bit double with its HTTP server, its uptime on `clock`. */
async function fluentBit(clock: { now(): number }, inputName?: string) {
  const rx = await startForwardReceiver({ httpUptime: true, uptimeClock: clock, ...(inputName ? { inputName } : {}) });
  cleanup.push(() => rx.close());
  return { rx, http: { host: '127.0.0.1', port: rx.httpPort! } };
}

describe("whether an acked chunk is stored, from Fluent Bit's uptime", () => {
  it('stored when the running Fluent Bit started before the ack and the answer came a settle time after it', () => {
    expect(storedSince({ at: 10_000, startedBefore: 1_000 }, 5_000, 500)).toBe(true);
    // started after (or maybe after) the ack: another Fluent Bit acked it
    expect(storedSince({ at: 10_000, startedBefore: 5_000 }, 5_000, 500)).toBe(false);
    expect(storedSince({ at: 10_000, startedBefore: 6_000 }, 5_000, 500)).toBe(false);
    // answered before the settle time had passed
    expect(storedSince({ at: 5_400, startedBefore: 1_000 }, 5_000, 500)).toBe(false);
  });

  it("reads the receiver double's /api/v1/uptime; its restart moves the start past earlier acks", async () => {
    const clock = manualClock(T0);
    const { rx, http } = await fluentBit(clock);
    const probe = new FluentBitUptime(http, clock);
    const before = clock.now();
    // Past the 2 s its whole-second uptime leaves unsure (at 1 s of uptime the start's upper bound is the answer's
    // time).
    clock.advance(3000);
    const a = await probe.answer(clock.now());
    // An upper bound of the start: never before it, at most 2 s (whole seconds at both ends) after.
    expect(a.startedBefore).toBeGreaterThan(before - 50);
    expect(a.startedBefore).toBeLessThanOrEqual(before + 2000);
    expect(storedSince(a, a.startedBefore + 1, 0)).toBe(true);
    expect(storedSince(a, a.startedBefore, 0)).toBe(false);
    const ackedAt = clock.now();
    rx.crash(); // a restart
    clock.advance(10); // an answer in the same millisecond as `a` would be `a` again
    const b = await probe.answer(clock.now());
    expect(b.startedBefore).toBeGreaterThan(ackedAt);
    expect(storedSince(b, ackedAt, 0)).toBe(false);
  });

  it(
    'a restart confirms acked chunks from the uptime; sends them again (and says why) without an HTTP server or ' +
      'when it cannot be reached',
    async () => {
      const clock = manualClock(T0);
      const { http } = await fluentBit(clock);
      clock.advance(3000); // past the 2 s its whole-second uptime leaves unsure
      const make = async (): Promise<SeenIds> => {
        const file = path.join(stateDir(), 'directory.ids');
        const s = await SeenIds.open(file, { maxIds: 100, logger: memoryLogger(), stream, journalAcks: true });
        s.reserve(hex(7));
        s.acked(IdBatch.of([{ id: hex(7), ts: 7 }]), 0, 1, clock.now());
        await s.close();
        return SeenIds.open(file, { maxIds: 100, logger: memoryLogger(), stream, journalAcks: true });
      };
      const logger = memoryLogger();
      const open = (target: { host: string; port: number }) =>
        FluentBitOracle.open({
          stateDir: stateDir(),
          http: target,
          input: 'jumpcloud_forward',
          settleMs: 300,
          logger,
          clock,
        });
      const up = await make();
      // The oracle waits out the settle time of the newest ack on its clock: the manual clock's sleep moves it.
      await decideRestart(up, await open(http), { logger, labels: stream });
      expect(up.has(hex(7))).toBe(true);
      const none = await make();
      await decideRestart(none, undefined, { logger, labels: stream });
      expect(none.has(hex(7))).toBe(false);
      const down = await make();
      await decideRestart(down, await open({ host: '127.0.0.1', port: 1 }), { logger, labels: stream });
      expect(down.has(hex(7))).toBe(false);
      const msgs = logger.lines.map((l) => l.msg);
      expect(msgs).toContain(
        'Fluent Bit ran on since its last acks before the collector stopped: those events are stored, not sending ' +
          'them again',
      );
      expect(
        msgs.some((m) =>
          m?.startsWith(
            'events acked by Fluent Bit less than --ack-settle before the collector stopped: sending them again (set ' +
              '--fluent-bit-http',
          ),
        ),
      ).toBe(true);
      expect(msgs).toContain(
        'cannot tell whether Fluent Bit restarted since it acked events just before the collector stopped: sending ' +
          'them again',
      );
      for (const s of [up, none, down]) await s.close();
    },
  );
});

describe('an input Fluent Bit does not list', () => {
  it(
    'is a configuration mistake said once, naming the Alias to set; the old ledger is voided, the uptime still ' +
      'serves',
    async () => {
      const clock = manualClock(T0);
      const { http } = await fluentBit(clock, 'forward.0');
      const dir = stateDir();
      writeFileSync(path.join(dir, LEDGER_FILE), 'B 1 2 3 4\nW 5 50 1\n');
      const logger = memoryLogger();
      const oracle = await FluentBitOracle.open({
        stateDir: dir,
        http,
        input: 'jumpcloud_forward',
        settleMs: 300,
        logger,
        clock,
      });
      expect(oracle.writes).toBeUndefined();
      expect(logger.lines.map((l) => [l.level, l.msg, (l.obj as { error?: string }).error])).toEqual([
        [
          'warn',
          'no forward ledger: chunks in flight at a kill will be sent again',
          expect.stringMatching(
            /lists no input "jumpcloud_forward" \(it has forward\.0, storage_backlog\.1\): give the forward input .*`Alias jumpcloud_forward`/,
          ),
        ],
      ]);
      // The old ledger is not decided later against a newer counter.
      expect(readFileSync(path.join(dir, LEDGER_FILE), 'latin1')).toBe('X\n');
      clock.advance(3000);
      const verdict = await oracle.acksStored(clock.now() - 1000);
      expect(verdict.stored(clock.now() - 1000)).toBe(true);
      await oracle.close();
    },
  );
});

describe('--fluent-bit-http', () => {
  const run = (argv: string[], env: Record<string, string> = {}) =>
    loadConfig({ argv: ['--api-key', 'k1234', ...argv], env, now: Date.parse('2026-03-01T12:00:00Z'), cwd: tmpdir() });
  it('takes HOST:PORT from the flag or FLUENT_BIT_HTTP; off when --forward is not the shipped pair', () => {
    const a = run(['--fluent-bit-http', '127.0.0.1:2020']);
    expect(a.kind === 'run' && a.config.fluentBitHttp).toEqual({ host: '127.0.0.1', port: 2020 });
    const b = run([], { FLUENT_BIT_HTTP: '[::1]:2021' });
    expect(b.kind === 'run' && b.config.fluentBitHttp).toEqual({ host: '::1', port: 2021 });
    const c = run(['--forward', '127.0.0.1:24225']);
    expect(c.kind === 'run' && c.config.fluentBitHttp).toBeUndefined();
  });
  it('refuses a value without a port, or a unix socket, naming the fix', () => {
    for (const bad of ['127.0.0.1', 'unix:/tmp/x', 'host:99999']) {
      expect(() => run(['--fluent-bit-http', bad])).toThrow(ConfigError);
      expect(() => run(['--fluent-bit-http', bad])).toThrow(
        /--fluent-bit-http .*expected HOST:PORT of http_listen and http_port/,
      );
    }
  });
});
