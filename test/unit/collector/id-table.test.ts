import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../../input/collector/delivery/id-table.js';

/** Ids as DI sends them (ObjectId, UUID) and everything else the table must still get right. */
const id = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{24}$/),
  fc.uuid().map((u) => u.toLowerCase()),
  fc.stringMatching(/^[0-9A-F]{24}$/), // upper case: kept as given, in the fallback map
  fc.stringMatching(/^[0-9a-f]{23}[g-z]$/),
  fc.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{11}[-x]$/),
  fc.string({ maxLength: 40 }),
);

type Op =
  | { op: 'set'; id: string; v: number }
  | { op: 'delete'; id: string }
  | { op: 'get'; id: string }
  | { op: 'deleteWhere'; below: number };

describe('IdTable (model: Map)', () => {
  it('behaves like a Map<string, number> under any sequence of operations (property)', () => {
    fc.assert(
      fc.property(
        fc.array(id, { minLength: 1, maxLength: 60 }),
        fc.array(
          fc.tuple(fc.nat(), fc.nat(100), fc.constantFrom('set', 'set', 'set', 'delete', 'get', 'deleteWhere')),
          { maxLength: 400 },
        ),
        (pool, steps) => {
          const t = new IdTable();
          const m = new Map<string, number>();
          const ops: Op[] = steps.map(([i, v, op]) => {
            const key = pool[i % pool.length]!;
            if (op === 'set') return { op, id: key, v: v === 0 ? NaN : v };
            if (op === 'deleteWhere') return { op, below: v };
            return { op, id: key } as Op;
          });
          for (const o of ops) {
            if (o.op === 'set') {
              t.set(o.id, o.v);
              m.set(o.id, o.v);
            } else if (o.op === 'delete') {
              expect(t.delete(o.id)).toBe(m.delete(o.id));
            } else if (o.op === 'get') {
              expect(t.get(o.id)).toEqual(m.get(o.id));
              expect(t.has(o.id)).toBe(m.has(o.id));
            } else {
              let n = 0;
              for (const [k, v] of m)
                if (v < o.below) {
                  m.delete(k);
                  n++;
                }
              expect(t.deleteWhere((v) => v < o.below)).toBe(n);
            }
            expect(t.size).toBe(m.size);
          }
          const entries: [string, number][] = [];
          t.forEach((v, k) => entries.push([k, v]));
          const sort = (a: [string, number][]): [string, number][] =>
            a.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
          expect(sort(entries)).toEqual(sort([...m]));
          const values: number[] = [];
          t.forEachValue((v) => values.push(v));
          expect(values.sort()).toEqual([...m.values()].sort());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds 300,000 ObjectIds off the heap, grows and shrinks its table, and bounds deletion by `more`', () => {
    const t = new IdTable();
    const hex = (i: number): string =>
      (0x65f00000 + i).toString(16).padStart(8, '0') + 'a1b2c3d4e5f6' + i.toString(16).padStart(4, '0').slice(-4);
    for (let i = 0; i < 300_000; i++) t.set(hex(i), i);
    expect(t.size).toBe(300_000);
    expect(t.slots).toBeLessThanOrEqual(1 << 19); // ≤ 25 bytes a slot: ~13 MB
    for (let i = 0; i < 300_000; i += 997) expect(t.get(hex(i))).toBe(i);
    expect(t.has(hex(300_000))).toBe(false);
    // Evict at most 1,000 of the oldest: `more` stops the deletion.
    let size = t.size;
    expect(
      t.deleteWhere(
        (v) => v < 100_000,
        () => size-- > 299_000,
      ),
    ).toBe(1_000);
    expect(t.deleteWhere((v) => v < 299_000)).toBe(298_000);
    expect(t.size).toBe(1_000);
    expect(t.slots).toBeLessThanOrEqual(4096);
    for (let i = 299_000; i < 300_000; i++) expect(t.get(hex(i))).toBe(i);
  });
});
