import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  StateError,
  StateWriter,
  loadState,
  streamPaths,
  type StreamState,
} from '../../../input/collector/state/state.js';
import fc from 'fast-check';
import { IdBatch, IdBatchBuilder, SeenIds } from '../../../input/collector/delivery/index.js';
import { writeLine } from '../../../input/collector/delivery/journal-codec.js';
import { memoryLogger } from '../../support/fakes.js';

const key = { org: '5f0c1a2b3c4d5e6f7a8b9c0d', service: 'directory' };
const T0 = Date.parse('2026-03-01T00:00:00Z');

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'collector-state-'));
}

describe('state files', () => {
  it(
    'a fresh state dir has no state; written state round-trips with its backfill, and the previous one is kept as ' +
      '.bak',
    async () => {
      const dir = tmp();
      expect(await loadState(dir, key)).toBeUndefined();
      const w = new StateWriter(dir, key);
      const s1: StreamState = { ...key, since: T0, checkpoint: T0 + 1 };
      await w.write(s1);
      const s2: StreamState = {
        ...s1,
        checkpoint: T0 + 2,
        backfill: {
          end: T0 + 100,
          slices: [
            { start: T0 - 5, end: T0 + 50, cursor: T0 + 7, done: false },
            { start: T0 + 50, end: T0 + 100, cursor: T0 + 100, done: true },
          ],
        },
      };
      await w.write(s2);
      expect(await loadState(dir, key)).toEqual(s2);
      const p = streamPaths(dir, key);
      expect(JSON.parse(readFileSync(p.backup, 'utf8')).checkpoint).toBe(new Date(T0 + 1).toISOString());
      expect(readdirSync(p.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const onDisk = JSON.parse(readFileSync(p.state, 'utf8'));
      expect(onDisk).toMatchObject({
        version: 1,
        org: key.org,
        service: 'directory',
        checkpoint: '2026-03-01T00:00:00.002Z',
      });
      expect(onDisk.backfill.slices[0]).toEqual({
        start: '2026-02-28T23:59:59.995Z',
        end: '2026-03-01T00:00:00.050Z',
        done: false,
        cursorTime: '2026-03-01T00:00:00.007Z',
      });
    },
  );

  it('coalesces concurrent writes and ends with the newest', async () => {
    const dir = tmp();
    const w = new StateWriter(dir, key);
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.write({ ...key, since: T0, checkpoint: T0 + i })));
    expect((await loadState(dir, key))!.checkpoint).toBe(T0 + 49);
  });

  it('a stale temp file from a crash mid-write is ignored', async () => {
    const dir = tmp();
    const w = new StateWriter(dir, key);
    await w.write({ ...key, since: T0, checkpoint: T0 + 5 });
    writeFileSync(streamPaths(dir, key).state + '.tmp', '{"version":1,"che');
    expect((await loadState(dir, key))!.checkpoint).toBe(T0 + 5);
  });

  const corrupt: [string, string, RegExp][] = [
    ['bad JSON', '{"version":1,', /not valid JSON/],
    [
      'wrong version',
      JSON.stringify({ version: 7, org: key.org, service: 'directory', checkpoint: '2026-03-01T00:00:00.000Z' }),
      /version 7/,
    ],
    [
      'bad checkpoint',
      JSON.stringify({ version: 1, org: key.org, service: 'directory', checkpoint: 'yesterday' }),
      /"checkpoint" is "yesterday"/,
    ],
    [
      'other stream',
      JSON.stringify({ version: 1, org: key.org, service: 'sso', checkpoint: '2026-03-01T00:00:00.000Z' }),
      /belongs to/,
    ],
    [
      'bad slice',
      JSON.stringify({
        version: 1,
        org: key.org,
        service: 'directory',
        checkpoint: '2026-03-01T00:00:00.000Z',
        backfill: {
          end: '2026-03-02T00:00:00.000Z',
          slices: [
            {
              start: '2026-03-01T00:00:00.000Z',
              end: '2026-03-02T00:00:00.000Z',
              cursorTime: '2026-03-03T00:00:00.000Z',
              done: false,
            },
          ],
        },
      }),
      /slice 0/,
    ],
  ];
  for (const [name, text, re] of corrupt) {
    it(`a corrupt state file (${name}) is an error naming the file and the recovery`, async () => {
      const dir = tmp();
      const w = new StateWriter(dir, key);
      await w.write({ ...key, since: T0, checkpoint: T0 });
      await w.write({ ...key, since: T0, checkpoint: T0 + 1 }); // leaves a .bak
      const p = streamPaths(dir, key);
      writeFileSync(p.state, text);
      const err = await loadState(dir, key).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateError);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      expect(msg).toContain(p.state);
      expect(msg).toContain(`cp ${p.backup} ${p.state}`);
      expect(msg).toContain('restart this stream from --since');
    });
  }

  it('a missing state file while the id journal exists is an error (checkpoint lost), never a silent restart', async () => {
    const dir = tmp();
    const p = streamPaths(dir, key);
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.journal, 'abc\t1\n');
    await expect(loadState(dir, key)).rejects.toThrow(/missing but the stream's id journal .* exists.*delete/s);
  });

  it('an empty journal without a state file (a first start killed before its first state write) is a fresh stream', async () => {
    const dir = tmp();
    const p = streamPaths(dir, key);
    mkdirSync(p.dir, { recursive: true });
    writeFileSync(p.journal, '');
    await expect(loadState(dir, key)).resolves.toBeUndefined();
  });

  it('org-less streams live under _default and odd names are made safe', () => {
    expect(streamPaths('/s', { org: '', service: 'all' }).state).toBe('/s/_default/all.json');
    expect(streamPaths('/s', { org: '../x', service: 'a/b' }).state).toBe('/s/%2E.%2Fx/a%2Fb.json');
  });
});

describe('id journal', () => {
  const stream = { org: '', service: 'all' };
  it('survives reopening, drops a torn last line with a warning, and appends cleanly after it', async () => {
    const dir = tmp();
    const file = path.join(dir, 'all.ids');
    const logger = memoryLogger();
    let seen = await SeenIds.open(file, { maxIds: 100, logger, stream });
    seen.commit([
      { id: 'a', ts: 10 },
      { id: 'b', ts: 20 },
    ]);
    await seen.close();
    appendFileSync(file, 'c\t3'); // kill -9 mid-append
    seen = await SeenIds.open(file, { maxIds: 100, logger, stream });
    expect(logger.lines.some((l) => l.level === 'warn' && /torn line/.test(l.msg ?? ''))).toBe(true);
    expect(seen.has('a') && seen.has('b')).toBe(true);
    expect(seen.has('c')).toBe(false);
    seen.commit([{ id: 'd', ts: 30 }]);
    await seen.close();
    expect(readFileSync(file, 'utf8')).toBe('a\t10\nb\t20\nd\t30\n');
  });

  it('compaction keeps what the predicate keeps, atomically', async () => {
    const dir = tmp();
    const file = path.join(dir, 'all.ids');
    const seen = await SeenIds.open(file, { maxIds: 100, logger: memoryLogger(), stream });
    seen.commit([
      { id: 'a', ts: 10 },
      { id: 'b', ts: 20 },
      { id: 'c', ts: 30 },
    ]);
    await seen.compact((ts) => ts >= 20);
    seen.commit([{ id: 'e', ts: 40 }]);
    await seen.close();
    expect(readFileSync(file, 'utf8')).toBe('b\t20\nc\t30\ne\t40\n');
    expect(existsSync(file + '.tmp')).toBe(false);
  });

  it('compacts a journal bigger than its write buffer (20,000 ObjectIds and UUIDs) to exactly the kept ids', async () => {
    const dir = tmp();
    const file = path.join(dir, 'big.ids');
    const id = (i: number): string =>
      i % 3 === 0
        ? `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${'0'.repeat(12)}`
        : i.toString(16).padStart(24, '0');
    let seen = await SeenIds.open(file, { maxIds: 100_000, logger: memoryLogger(), stream });
    const all = Array.from({ length: 20_000 }, (_, i) => ({ id: id(i), ts: T0 + i }));
    for (let i = 0; i < all.length; i += 2000) seen.commit(all.slice(i, i + 2000));
    await seen.compact((ts) => ts >= T0 + 5_000);
    await seen.close();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(15_000);
    expect(new Set(lines).size).toBe(15_000);
    seen = await SeenIds.open(file, { maxIds: 100_000, logger: memoryLogger(), stream });
    expect(seen.size).toBe(15_000);
    for (const e of all) expect(seen.has(e.id), e.id).toBe(e.ts >= T0 + 5_000);
    await seen.close();
  });

  it('is bounded by maxIds: evicts the oldest by event time and warns', async () => {
    const dir = tmp();
    const logger = memoryLogger();
    const seen = await SeenIds.open(path.join(dir, 'x.ids'), { maxIds: 10, logger, stream });
    seen.commit(Array.from({ length: 11 }, (_, i) => ({ id: `id${i}`, ts: 100 - i })));
    expect(seen.size).toBe(9);
    expect(seen.has('id0') && seen.has('id8')).toBe(true);
    expect(seen.has('id10') || seen.has('id9')).toBe(false);
    expect(seen.evictedUpTo).toBe(91);
    expect(logger.lines.some((l) => l.level === 'warn' && /maxSeenIds/.test(l.msg ?? ''))).toBe(true);
    await seen.close();
  });

  it(
    'writes each line as the reference text `id<TAB>ts` (quoted ids as JSON), and reads back what it wrote ' +
      '(property)',
    async () => {
      const id = fc.oneof(
        fc.stringMatching(/^[0-9a-f]{24}$/),
        fc.uuid(),
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
      );
      const ts = fc.oneof(fc.integer({ min: 0, max: 4_294_967_295_999 }), fc.constantFrom(0, 9, 10, 99, 100, 1e15));
      fc.assert(
        fc.property(id, ts, (i, t) => {
          const buf = Buffer.alloc(3 * i.length + 40);
          const end = writeLine(buf, 0, i, t);
          const quoted = /[\t\r\n"]/.test(i);
          expect(buf.toString('utf8', 0, end)).toBe(`${quoted ? JSON.stringify(i) : i}\t${t}\n`);
        }),
        { numRuns: 2000 },
      );
      const dir = tmp();
      const file = path.join(dir, 'p.ids');
      const entries = fc.sample(fc.tuple(id, ts), 500).map(([i, t]) => ({ id: i, ts: t }));
      let seen = await SeenIds.open(file, { maxIds: 10_000, logger: memoryLogger(), stream });
      seen.commit(entries);
      await seen.close();
      seen = await SeenIds.open(file, { maxIds: 10_000, logger: memoryLogger(), stream });
      for (const e of entries) expect(seen.has(e.id), e.id).toBe(true);
      await seen.close();
    },
  );

  it('IdBatch: joined ids split back exactly (property), and commit/release of a batch act as of the same entries', async () => {
    const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(fc.array(fc.tuple(id, fc.integer({ min: 0, max: 2 ** 45 })), { maxLength: 50 }), (list) => {
        const b = new IdBatchBuilder(list.length);
        for (const [i, t] of list) b.add(i, t);
        const batch = b.finish();
        expect(batch.length).toBe(list.length);
        expect(Array.from({ length: batch.length }, (_, k) => [batch.id(k), batch.ts[k]])).toEqual(list);
      }),
      { numRuns: 500 },
    );
    expect(() => {
      const b = new IdBatchBuilder(1);
      b.add('a', 1);
      b.add('b', 2);
    }).toThrow(RangeError);

    const dir = tmp();
    const ids = Array.from({ length: 300 }, (_, k) => ({
      id: k % 3 === 0 ? `x${k}` : k.toString(16).padStart(24, '0'),
      ts: 1000 + k,
    }));
    const viaBatch = path.join(dir, 'batch.ids'),
      viaArray = path.join(dir, 'array.ids');
    const a = await SeenIds.open(viaBatch, { maxIds: 10_000, logger: memoryLogger(), stream });
    const r = await SeenIds.open(viaArray, { maxIds: 10_000, logger: memoryLogger(), stream });
    for (const e of ids) {
      a.reserve(e.id);
      r.reserve(e.id);
    }
    a.commit(IdBatch.of(ids.slice(0, 200)));
    r.commit(ids.slice(0, 200));
    a.release(IdBatch.of(ids.slice(200)));
    r.release(ids.slice(200));
    expect(a.size).toBe(200);
    expect(ids.map((e) => a.has(e.id))).toEqual(ids.map((e) => r.has(e.id)));
    await a.close();
    await r.close();
    expect(readFileSync(viaBatch, 'utf8')).toBe(readFileSync(viaArray, 'utf8'));
  });

  it('ids with tabs or newlines are quoted, and in-flight ids count as seen until released', async () => {
    const dir = tmp();
    const file = path.join(dir, 'q.ids');
    let seen = await SeenIds.open(file, { maxIds: 10, logger: memoryLogger(), stream });
    seen.reserve('x');
    expect(seen.has('x')).toBe(true);
    seen.release([{ id: 'x', ts: 1 }]);
    expect(seen.has('x')).toBe(false);
    seen.commit([{ id: 'we\tird\n', ts: 5 }]);
    await seen.close();
    seen = await SeenIds.open(file, { maxIds: 10, logger: memoryLogger(), stream });
    expect(seen.has('we\tird\n')).toBe(true);
    await seen.close();
  });
});
