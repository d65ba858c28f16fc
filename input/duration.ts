// Durations (`90s`, `15m`, `4h`, `30d`, `1h30m`, `500ms`) and `--since` instants (a duration ago, an ISO date or an
// RFC 3339 time). Parsers return numbers or throw DurationError with a message that says what is expected.
import { JumpCloudError } from './errors.js';

export class DurationError extends JumpCloudError {
  static override readonly code: string = 'DURATION_INVALID';
  override readonly fatal = true;
}

/** Milliseconds per unit, largest first: the order in which a combined duration must list them. */
const UNITS = [
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const UNIT_MS = new Map<string, number>(UNITS);
const PART = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/y;

const DURATION_HINT = 'a number with a unit (ms, s, m, h, d, w), e.g. 90s, 15m, 4h, 30d or 1h30m';

/** Parses a duration into milliseconds. `0` alone is accepted; any other number needs a unit. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new DurationError(`empty duration: expected ${DURATION_HINT}`);
  if (s === '0') return 0;
  if (s.startsWith('-')) throw new DurationError(`"${text}" is negative: durations cannot be negative`);
  if (/^\d+(\.\d+)?$/.test(s)) throw new DurationError(`"${text}" has no unit: expected ${DURATION_HINT}`);
  let total = 0;
  let pos = 0;
  let lastRank = -1;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) throw new DurationError(`"${text}" is not a duration: expected ${DURATION_HINT}`);
    const unit = m[2]!;
    const rank = UNITS.findIndex(([u]) => u === unit);
    if (rank <= lastRank) {
      throw new DurationError(`"${text}" is not a duration: list each unit once, largest first (e.g. 1h30m)`);
    }
    lastRank = rank;
    total += Number(m[1]) * UNIT_MS.get(unit)!;
    pos = PART.lastIndex;
  }
  // Decimal parts like 1.5h are fine as long as they land on whole milliseconds.
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6) throw new DurationError(`"${text}" is finer than a millisecond`);
  if (!Number.isSafeInteger(rounded) || rounded > 100 * 365 * 86_400_000) {
    throw new DurationError(`"${text}" is too long: at most 100 years`);
  }
  return rounded;
}

/** Canonical text of a duration (`1d2h3m4s5ms`, `0` for zero); `parseDuration(formatDuration(ms)) === ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot format ${ms} as a duration`);
  if (ms === 0) return '0';
  let rest = ms;
  let out = '';
  // Weeks are parsed but not produced: `14d` reads better than `2w` in a config.
  for (const [unit, size] of UNITS) {
    if (unit === 'w') continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})?$/;

export const SINCE_HINT =
  `a duration ago (${DURATION_HINT}) or a date: 2026-01-31 (UTC midnight) or an RFC 3339 ` +
  `time like 2026-01-31T08:00:00Z`;

/** Parses an ISO date (UTC midnight) or an RFC 3339 date-time with a zone into epoch milliseconds. */
export function parseInstant(text: string): number {
  const s = text.trim();
  const d = DATE.exec(s);
  if (d) return checkedUtc(text, +d[1]!, +d[2]!, +d[3]!, 0, 0, 0, 0, 0);
  const t = DATE_TIME.exec(s);
  if (!t) throw new DurationError(`"${text}" is not a date: expected ${SINCE_HINT}`);
  if (t[8] === undefined) {
    throw new DurationError(`"${text}" has no time zone: add Z for UTC or an offset like +02:00`);
  }
  const ms = t[7] === undefined ? 0 : Math.floor(Number(t[7].padEnd(9, '0')) / 1e6);
  let offsetMin = 0;
  if (t[8] !== 'Z' && t[8] !== 'z') {
    const sign = t[8].startsWith('-') ? -1 : 1;
    const [oh, om] = t[8].slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) throw new DurationError(`"${text}" has an invalid zone offset ${t[8]}`);
    offsetMin = sign * (oh * 60 + om);
  }
  return checkedUtc(text, +t[1]!, +t[2]!, +t[3]!, +t[4]!, +t[5]!, t[6] === undefined ? 0 : +t[6], ms, offsetMin);
}

function checkedUtc(
  text: string,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
  offsetMin: number,
): number {
  const local = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(local);
  // Date.UTC rolls Feb 30 over into March: a round trip catches impossible dates and times.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s ||
    y < 1970
  ) {
    throw new DurationError(`"${text}" is not a valid date or time`);
  }
  return local - offsetMin * 60_000;
}

export interface Since {
  /** Epoch milliseconds. */
  readonly ms: number;
  readonly kind: 'duration' | 'date';
}

/** `--since`: a duration before `nowMs`, or an absolute instant. Whether it lies in the past is the caller's check. */
export function parseSince(text: string, nowMs: number): Since {
  const s = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return { ms: parseInstant(s), kind: 'date' };
  try {
    return { ms: nowMs - parseDuration(s), kind: 'duration' };
  } catch (err) {
    throw new DurationError(`"${text}" is neither a duration nor a date: expected ${SINCE_HINT}`, { cause: err });
  }
}
