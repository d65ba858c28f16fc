// RFC 3339 timestamps with 0-9 fraction digits and any offset, parsed by hand: Date.parse keeps only
// milliseconds, and the forward protocol's EventTime carries nanoseconds.
import type { EventTime } from '../types.js';

export class TimestampError extends Error {
  override readonly name = 'TimestampError';
  constructor(readonly text: string, reason: string) {
    super(`invalid RFC 3339 timestamp ${JSON.stringify(text)}: ${reason}`);
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MAX_SEC = 0xffffffff; // EventTime's seconds are an unsigned 32-bit integer
const PAD = '000000000';

function daysIn(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS[month - 1]!;
}

/** Parses an RFC 3339 timestamp into seconds + nanoseconds since the epoch (UTC). Throws TimestampError. */
export function parseEventTime(text: string): EventTime {
  const m = RFC3339.exec(text);
  if (!m) throw new TimestampError(text, 'expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)');
  const year = +m[1]!, month = +m[2]!, day = +m[3]!, hour = +m[4]!, minute = +m[5]!, second = +m[6]!;
  if (month < 1 || month > 12) throw new TimestampError(text, `month ${m[2]} out of range`);
  if (day < 1 || day > daysIn(year, month)) throw new TimestampError(text, `day ${m[3]} out of range`);
  if (hour > 23) throw new TimestampError(text, `hour ${m[4]} out of range`);
  if (minute > 59) throw new TimestampError(text, `minute ${m[5]} out of range`);
  // 60 is a leap second; like most systems we fold it into the next minute's second 0.
  if (second > 60) throw new TimestampError(text, `second ${m[6]} out of range`);
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = +m[10]!, om = +m[11]!;
    if (oh > 23 || om > 59) throw new TimestampError(text, `offset ${m[9]}${m[10]}:${m[11]} out of range`);
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const dayMs = Date.UTC(year, month - 1, day, hour, minute, 0);
  // Date.UTC maps years 0-99 to 1900-1999; no timestamp we carry is that old, and such a one fails below.
  const sec = dayMs / 1000 + second - offsetMin * 60;
  if (!Number.isInteger(sec) || sec < 0 || sec > MAX_SEC) {
    throw new TimestampError(text, 'outside the range EventTime can carry (1970 to 2106)');
  }
  const frac = m[7];
  const nsec = frac === undefined ? 0 : +(frac + PAD.slice(frac.length));
  return { sec, nsec };
}

/** Milliseconds since the epoch, truncated: `t >= x` ⇔ `toMillis(t) >= x` for every integer `x`. */
export function eventTimeMillis(t: EventTime): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

/** RFC 3339 UTC with milliseconds, as the API's query bounds and our state files carry instants. */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses an ISO instant written by isoMillis (or any Date-parsable RFC 3339); NaN when invalid. */
export function parseIsoMillis(text: string): number {
  return typeof text === 'string' && RFC3339.test(text) ? Date.parse(text) : NaN;
}
