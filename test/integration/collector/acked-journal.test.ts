// The id journal per acked chunk (issue 10 part 2): acked@ lines, their confirmation from Fluent Bit's uptime at a
// restart, and the rule that decides it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FluentBitUptime, confirmUnsettledAcks, storedSince } from '../../../input/collector/oracle/uptime.js';
import { IdBatch, SeenIds, writeLine } from '../../../input/collector/delivery/seen-ids.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { ConfigError, loadConfig } from '../../../input/config.js';
import { memoryLogger } from '../../support/fakes.js';

const stream = { org: 'o', service: 'directory' };
const hex = (i: number): string => i.toString(16).padStart(24, '0');
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function journal(journalAcks: boolean): Promise<{ file: string; open: () => Promise<SeenIds> }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'acked-journal-')), 'directory.ids');
  return { file, open: () => SeenIds.open(file, { maxIds: 1_000_000, logger: memoryLogger(), stream, journalAcks }) };
}

describe('acked@ lines in the id journal', () => {
  it('writeLine with an ack time writes `id<TAB>ts<TAB>acked@ms`, the same bytes as the text form (property)', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (id, ts, ackedAt) => {
      const buf = Buffer.alloc(3 * id.length + 64);
      const end = writeLine(buf, 0, id, ts, ackedAt);
      const quoted = /[\t\r\n"]/.test(id) ? JSON.stringify(id) : id;
      expect(buf.toString('utf8', 0, end)).toBe(`${quoted}\t${ts}\tacked@${ackedAt}\n`);
    }));
  });

  it('per chunk: acked ranges are journaled at the ack, delivered ones at the settle; a restart finds the unsettled ones', async () => {
    const j = await journal(true);
    const seen = await j.open();
    const batch = IdBatch.of(Array.from({ length: 10 }, (_, i) => ({ id: hex(i), ts: 1000 + i })));
    for (let i = 0; i < 10; i++) seen.reserve(batch.id(i));
    seen.acked(batch, 0, 4, 5000);
    seen.commit(batch, 0, 4); // chunk 1 settled
    seen.acked(batch, 4, 10, 5100); // chunk 2 acked, not settled: the collector dies here
    expect(seen.size).toBe(4);
    await seen.close();
    const text = readFileSync(j.file, 'utf8');
    expect(text.split('\n').filter((l) => l.endsWith('acked@5100'))).toHaveLength(6);
    const again = await j.open();
    expect(again.size).toBe(4);
    expect(again.unconfirmedAcks).toEqual({ count: 6, newestAckedAt: 5100, oldestAckedAt: 5100 });
    expect(again.has(hex(5))).toBe(false);
    expect(again.confirmAcks((at) => at === 5100)).toEqual({ confirmed: 6, dropped: 0 });
    expect(again.has(hex(5))).toBe(true);
    expect(again.unconfirmedAcks.count).toBe(0);
    await again.close();
    // Confirmed ids were journaled as delivered: the next start finds nothing to decide.
    const third = await j.open();
    expect(third.size).toBe(10);
    expect(third.unconfirmedAcks.count).toBe(0);
    await third.close();
  });

  it('dropped (not confirmed) acks are forgotten, so those events are fetched and sent again', async () => {
    const j = await journal(true);
    const seen = await j.open();
    const batch = IdBatch.of([{ id: hex(1), ts: 1 }, { id: hex(2), ts: 2 }]);
    seen.reserve(hex(1));
    seen.reserve(hex(2));
    seen.acked(batch, 0, 2, 9000);
    await seen.close();
    const again = await j.open();
    expect(again.confirmAcks(() => false)).toEqual({ confirmed: 0, dropped: 2 });
    expect(again.has(hex(1))).toBe(false);
    expect(again.size).toBe(0);
    await again.close();
  });

  it('a rewrite (compaction) keeps the acked@ lines of chunks still settling; a failed send forgets them', async () => {
    const j = await journal(true);
    const seen = await j.open();
    const a = IdBatch.of([{ id: hex(1), ts: 10 }, { id: hex(2), ts: 20 }]);
    const b = IdBatch.of([{ id: hex(3), ts: 30 }]);
    for (const id of [hex(1), hex(2), hex(3)]) seen.reserve(id);
    seen.acked(a, 0, 2, 7000);
    seen.acked(b, 0, 1, 7001);
    seen.release(b); // its send failed (connection closed within the settle time)
    await seen.compact(() => true);
    await seen.close();
    const lines = readFileSync(j.file, 'utf8').trim().split('\n');
    expect(lines.sort()).toEqual([`${hex(1)}\t10\tacked@7000`, `${hex(2)}\t20\tacked@7000`]);
  });

  it('without journalAcks nothing is written at the ack', async () => {
    const j = await journal(false);
    const seen = await j.open();
    const batch = IdBatch.of([{ id: hex(1), ts: 1 }]);
    seen.reserve(hex(1));
    seen.acked(batch, 0, 1, 1);
    await seen.close();
    expect(readFileSync(j.file, 'utf8')).toBe('');
  });
});

describe('whether an acked chunk is stored, from Fluent Bit\'s uptime', () => {
  it('stored when the running Fluent Bit started before the ack and the answer came a settle time after it', () => {
    expect(storedSince({ at: 10_000, startedBefore: 1_000 }, 5_000, 500)).toBe(true);
    // started after (or maybe after) the ack: another Fluent Bit acked it
    expect(storedSince({ at: 10_000, startedBefore: 5_000 }, 5_000, 500)).toBe(false);
    expect(storedSince({ at: 10_000, startedBefore: 6_000 }, 5_000, 500)).toBe(false);
    // answered before the settle time had passed
    expect(storedSince({ at: 5_400, startedBefore: 1_000 }, 5_000, 500)).toBe(false);
  });

  it('reads the receiver double\'s /api/v1/uptime; its restart moves the start past earlier acks', async () => {
    const rx = await startForwardReceiver({ httpUptime: true });
    cleanup.push(() => rx.close());
    const probe = new FluentBitUptime({ host: '127.0.0.1', port: rx.httpPort! });
    const before = Date.now();
    // Past the 2 s its whole-second uptime leaves unsure (at 1 s of uptime the start's upper bound is the answer's time).
    await new Promise((r) => setTimeout(r, 3000));
    const a = await probe.answer(Date.now());
    // An upper bound of the start: never before it, at most 2 s (whole seconds at both ends) + the answer's latency after.
    expect(a.startedBefore).toBeGreaterThan(before - 50);
    expect(a.startedBefore).toBeLessThanOrEqual(before + 2000 + (a.at - before - 3000));
    expect(storedSince(a, a.startedBefore + 1, 0)).toBe(true);
    expect(storedSince(a, a.startedBefore, 0)).toBe(false);
    const ackedAt = Date.now();
    rx.crash(); // a restart
    await new Promise((r) => setTimeout(r, 10)); // an answer in the same millisecond as `a` would be `a` again
    const b = await probe.answer(Date.now());
    expect(b.startedBefore).toBeGreaterThan(ackedAt);
    expect(storedSince(b, ackedAt, 0)).toBe(false);
  });

  it('confirmUnsettledAcks: confirmed with the uptime; resent (and said why) without an HTTP server or when it cannot be reached', async () => {
    const rx = await startForwardReceiver({ httpUptime: true });
    cleanup.push(() => rx.close());
    await new Promise((r) => setTimeout(r, 3000)); // past the 2 s (+ latency) its whole-second uptime leaves unsure
    const make = async (): Promise<SeenIds> => {
      const j = await journal(true);
      const s = await j.open();
      const batch = IdBatch.of([{ id: hex(7), ts: 7 }]);
      s.reserve(hex(7));
      s.acked(batch, 0, 1, Date.now());
      await s.close();
      return j.open();
    };
    const logger = memoryLogger();
    const labels = stream;
    const up = await make();
    await confirmUnsettledAcks(up, { uptime: new FluentBitUptime({ host: '127.0.0.1', port: rx.httpPort! }), settleMs: 300, logger, labels });
    expect(up.has(hex(7))).toBe(true);
    const none = await make();
    await confirmUnsettledAcks(none, { uptime: undefined, settleMs: 300, logger, labels });
    expect(none.has(hex(7))).toBe(false);
    const down = await make();
    await confirmUnsettledAcks(down, { uptime: new FluentBitUptime({ host: '127.0.0.1', port: 1 }), settleMs: 300, logger, labels });
    expect(down.has(hex(7))).toBe(false);
    const msgs = logger.lines.map((l) => l.msg);
    expect(msgs).toContain('Fluent Bit ran on since its last acks before the collector stopped: those events are stored, not sending them again');
    expect(msgs.some((m) => m?.startsWith('events acked by Fluent Bit less than --ack-settle before the collector stopped: sending them again (set --fluent-bit-http'))).toBe(true);
    expect(msgs).toContain('cannot tell whether Fluent Bit restarted since it acked events just before the collector stopped: sending them again');
    for (const s of [up, none, down]) await s.close();
  });
});

describe('--fluent-bit-http', () => {
  const run = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv: ['--api-key', 'k1234', ...argv], env, now: Date.parse('2026-03-01T12:00:00Z'), cwd: tmpdir() });
  it('takes HOST:PORT from the flag or FLUENT_BIT_HTTP; off by default', () => {
    const a = run(['--fluent-bit-http', '127.0.0.1:2020']);
    expect(a.kind === 'run' && a.config.fluentBitHttp).toEqual({ host: '127.0.0.1', port: 2020 });
    const b = run([], { FLUENT_BIT_HTTP: '[::1]:2021' });
    expect(b.kind === 'run' && b.config.fluentBitHttp).toEqual({ host: '::1', port: 2021 });
    const c = run([]);
    expect(c.kind === 'run' && c.config.fluentBitHttp).toBeUndefined();
  });
  it('refuses a value without a port, or a unix socket, naming the fix', () => {
    for (const bad of ['127.0.0.1', 'unix:/tmp/x', 'host:99999']) {
      expect(() => run(['--fluent-bit-http', bad])).toThrow(ConfigError);
      expect(() => run(['--fluent-bit-http', bad])).toThrow(/--fluent-bit-http .*expected HOST:PORT of http_listen and http_port/);
    }
  });
});
