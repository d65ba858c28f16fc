// RFC 3339 instants with up to 9 fraction digits, kept exact: DI timestamps carry nanoseconds, which a JS Date
// cannot hold, so an instant is epoch milliseconds plus the nanoseconds within that millisecond.

export interface Instant {
  /** Milliseconds since the epoch (floor). */
  readonly ms: number;
  /** Nanoseconds within the millisecond, 0..999999. */
  readonly subNs: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses `2026-01-26T09:11:52.123456789Z` (any offset); undefined when it is not RFC 3339 or not a real date. */
export function parseRfc3339(text: string): Instant | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(base)) return undefined;
  const check = new Date(base);
  if (check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) || Number(s) > 59) return undefined;
  let offsetMs = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    offsetMs = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  const nanos = Number(frac.padEnd(9, '0'));
  return { ms: base - offsetMs + Math.floor(nanos / 1_000_000), subNs: nanos % 1_000_000 };
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.subNs - b.subNs;
}

/** `2026-01-26T09:11:52.123Z` style text with `digits` fraction digits (0, 3, 6 or 9), UTC. */
export function formatInstant(t: Instant, digits: 0 | 3 | 6 | 9): string {
  const sec = Math.floor(t.ms / 1000);
  // Generators format many instants of the same second in a row: reuse its text.
  if (sec !== lastSecond) {
    lastSecond = sec;
    lastSecondText = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  if (digits === 0) return `${lastSecondText}Z`;
  const ms = String(t.ms - sec * 1000).padStart(3, '0');
  if (digits === 3) return `${lastSecondText}.${ms}Z`;
  const sub = String(t.subNs).padStart(6, '0');
  return `${lastSecondText}.${ms}${digits === 6 ? sub.slice(0, 3) : sub}Z`;
}

let lastSecond = NaN;
let lastSecondText = '';
