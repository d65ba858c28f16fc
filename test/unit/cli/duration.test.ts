import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration, parseInstant, parseSince } from '../../../input/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['30d', 2_592_000_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['0s', 0],
    [' 2m ', 120_000],
    ['1d2h3m4s5ms', 93_784_005],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['10', /no unit/],
    ['-5m', /negative/],
    ['5x', /not a duration/],
    ['m', /not a duration/],
    ['30m1h', /largest first/],
    ['1h1h', /largest first/],
    ['0.5ms', /finer than a millisecond/],
    ['1e3s', /not a duration/],
    ['99999999999d', /too long/],
    ['1 h', /not a duration/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(message);
  });

  it('round-trips formatDuration → parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('round-trips any combination of units written largest first', () => {
    const units = ['w', 'd', 'h', 'm', 's', 'ms'] as const;
    const size = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        (counts, used) => {
          const picked = units.filter((_, i) => used[i]);
          fc.pre(picked.length > 0);
          const text = picked.map((u) => `${counts[units.indexOf(u)]}${u}`).join('');
          const ms = picked.reduce((sum, u) => sum + counts[units.indexOf(u)]! * size[u], 0);
          expect(parseDuration(text)).toBe(ms);
        },
      ),
    );
  });

  it('rejects garbage with a DurationError that says what is expected', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let result: number | undefined;
        try {
          result = parseDuration(text);
        } catch (err) {
          expect(err).toBeInstanceOf(DurationError);
          expect((err as Error).message.length).toBeGreaterThan(10);
          return;
        }
        // Whatever was accepted must be a well-formed duration.
        expect(text.trim()).toMatch(/^(0|(\d+(\.\d+)?(ms|w|d|h|m|s))+)$/);
        expect(Number.isSafeInteger(result)).toBe(true);
      }),
    );
  });
});

describe('parseInstant / parseSince', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T08:00:00Z', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31T08:00Z', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31T08:00:00.123456789Z', '2026-01-31T08:00:00.123Z'],
    ['2026-01-31T10:00:00+02:00', '2026-01-31T08:00:00.000Z'],
    ['2026-01-31 08:00:00-01:30', '2026-01-31T09:30:00.000Z'],
  ])('%s', (text, iso) => {
    expect(new Date(parseInstant(text)).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-02-30', /not a valid date/],
    ['2026-13-01', /not a valid date/],
    ['2026-01-31T08:00:00', /no time zone/],
    ['2026-01-31T25:00:00Z', /not a valid date/],
    ['31/01/2026', /not a date/],
    ['2026-01-31T08:00:00+25:00', /offset/],
  ])('rejects %s', (text, message) => {
    expect(() => parseInstant(text)).toThrow(message);
  });

  it('reads a duration as that long before now and a date as itself', () => {
    expect(parseSince('1h', now)).toEqual({ ms: now - 3_600_000, kind: 'duration' });
    expect(parseSince('30d', now).ms).toBe(now - 30 * 86_400_000);
    expect(parseSince('2026-02-01', now)).toEqual({ ms: Date.parse('2026-02-01T00:00:00Z'), kind: 'date' });
    expect(() => parseSince('yesterday', now)).toThrow(/neither a duration nor a date/);
  });

  it('round-trips any ISO time through parseInstant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.parse('2200-01-01T00:00:00Z') }), (ms) => {
        expect(parseInstant(new Date(ms).toISOString())).toBe(ms);
      }),
    );
  });
});
