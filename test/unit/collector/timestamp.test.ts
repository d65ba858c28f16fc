import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TimestampError,
  eventTimeMillis,
  parseChecked,
  parseEventTime,
  parseEventTimeBytes,
} from '../../../input/collector/state/timestamp.js';

const MAX_SEC = 0xffffffff;

/** Formats epoch seconds + nanoseconds as RFC 3339 in a given offset with `digits` fraction digits. */
function format(sec: number, nsec: number, offsetMin: number, digits: number): string {
  const local = new Date((sec + offsetMin * 60) * 1000).toISOString().slice(0, 19);
  const frac = digits === 0 ? '' : '.' + String(nsec).padStart(9, '0').slice(0, digits);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const off =
    offsetMin === 0 && digits % 2 === 0
      ? 'Z'
      : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${frac}${off}`;
}

describe('parseEventTime', () => {
  it('round-trips any instant, 0-9 fraction digits, any offset (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 86_400, max: MAX_SEC - 86_400 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        fc.integer({ min: 0, max: 9 }),
        (sec, nsec, off, digits) => {
          const truncated = digits === 0 ? 0 : nsec - (nsec % 10 ** (9 - digits));
          const text = format(sec, nsec, off, digits);
          const t = parseEventTime(text);
          expect(t).toEqual({ sec, nsec: truncated });
          expect(eventTimeMillis(t)).toBe(Date.parse(text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps nanoseconds that Date.parse drops', () => {
    expect(parseEventTime('2026-01-26T09:11:36.495420839Z')).toEqual({
      sec: Date.parse('2026-01-26T09:11:36Z') / 1000,
      nsec: 495_420_839,
    });
    expect(parseEventTime('2026-01-26T09:11:41Z').nsec).toBe(0);
    expect(parseEventTime('2026-01-26T09:11:45.9Z').nsec).toBe(900_000_000);
    expect(parseEventTime('2026-01-26T10:11:45.921+01:00')).toEqual(parseEventTime('2026-01-26T09:11:45.921Z'));
  });

  it('rejects anything that is not RFC 3339 (property: mutated strings never parse to a wrong value)', () => {
    for (const bad of [
      '',
      '2026-01-26',
      '2026-01-26T09:11Z',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-01-26T24:00:00Z',
      '2026-01-26T09:60:00Z',
      '2026-01-26T09:11:61Z',
      '2026-01-26T09:11:41.1234567890Z',
      '2026-01-26T09:11:41',
      '2026-01-26T09:11:41+0100',
      '1969-12-31T23:59:59Z',
      '2106-02-08T00:00:00Z',
      ' 2026-01-26T09:11:41Z',
      '2026-01-26T09:11:41.Z',
    ]) {
      expect(() => parseEventTime(bad), bad).toThrow(TimestampError);
    }
    expect(parseEventTime('2024-02-29T00:00:00Z').sec).toBe(Date.parse('2024-02-29T00:00:00Z') / 1000);
    expect(() => parseEventTime('2023-02-29T00:00:00Z')).toThrow(/day 29/);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        let t;
        try {
          t = parseEventTime(s);
        } catch (err) {
          expect(err).toBeInstanceOf(TimestampError);
          return;
        }
        // Whatever parses must agree with Date.parse to the millisecond.
        expect(eventTimeMillis(t)).toBe(Date.parse(s.replace(' ', 'T')));
      }),
      { numRuns: 5000 },
    );
  });

  it('the hand-written fast path reads exactly what the reference regex reads (property over near-valid strings)', () => {
    const outcome = (f: () => unknown): unknown => {
      try {
        return f();
      } catch (err) {
        return (err as Error).name;
      }
    };
    // Valid timestamps with one character replaced, inserted or removed: the cases a fast path gets wrong.
    const valid = fc
      .tuple(
        fc.integer({ min: 0, max: MAX_SEC }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: -1439, max: 1439 }),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([sec, nsec, off, d]) => format(sec, nsec, off, d));
    const mutated = fc
      .tuple(
        valid,
        fc.nat(),
        fc.constantFrom('', '0', '9', 'T', 't', ' ', 'Z', 'z', '.', ':', '-', '+', 'x', '\u0660'),
        fc.constantFrom('replace', 'insert', 'delete'),
      )
      .map(([s, at, ch, how]) => {
        const i = at % (s.length + 1);
        return how === 'insert'
          ? s.slice(0, i) + ch + s.slice(i)
          : s.slice(0, i) + (how === 'replace' ? ch : '') + s.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(valid, mutated, fc.string({ maxLength: 40 })), (s) => {
        expect(outcome(() => parseEventTime(s))).toEqual(outcome(() => parseChecked(s)));
      }),
      { numRuns: 20_000 },
    );
  });

  it("parseEventTimeBytes reads a page's bytes as parseEventTime reads the string, never past its span (property)", () => {
    const valid = fc
      .tuple(
        fc.integer({ min: 0, max: MAX_SEC }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.integer({ min: -1439, max: 1439 }),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([sec, nsec, off, d]) => format(sec, nsec, off, d));
    const mutated = fc
      .tuple(
        valid,
        fc.nat(),
        fc.constantFrom('', '0', '9', 'T', 't', ' ', 'Z', 'z', '.', ':', '-', '+', 'x', '\u0660', 'é'),
        fc.constantFrom('replace', 'insert', 'delete'),
      )
      .map(([s, at, ch, how]) => {
        const i = at % (s.length + 1);
        return how === 'insert'
          ? s.slice(0, i) + ch + s.slice(i)
          : s.slice(0, i) + (how === 'replace' ? ch : '') + s.slice(i + 1);
      });
    // Digits and separators around the span: a parser reading past either end would see a plausible timestamp.
    const filler = fc.string({ unit: fc.constantFrom('0', '9', ':', '-', 'Z', '+', '.'), maxLength: 12 });
    fc.assert(
      fc.property(fc.oneof(valid, mutated, fc.string({ maxLength: 40 })), filler, filler, (s, before, after) => {
        const bytes = Buffer.from(before + s + after, 'utf8');
        const from = Buffer.byteLength(before, 'utf8');
        const out = { sec: -1, nsec: -1 };
        const ok = parseEventTimeBytes(bytes, from, from + Buffer.byteLength(s, 'utf8'), out);
        let expected;
        try {
          expected = parseEventTime(s);
        } catch {
          expected = undefined;
        }
        if (ok) expect(out).toEqual(expected);
        else expect(out).toEqual({ sec: -1, nsec: -1 });
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(valid, (s) => {
        const out = { sec: 0, nsec: 0 };
        expect(parseEventTimeBytes(Buffer.from(s, 'latin1'), 0, s.length, out)).toBe(true);
        expect(out).toEqual(parseEventTime(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('truncates, never rounds, to milliseconds', () => {
    expect(eventTimeMillis(parseEventTime('2026-01-26T09:11:36.999999999Z'))).toBe(
      Date.parse('2026-01-26T09:11:36.999Z'),
    );
  });
});
