// RFC 3339 timestamps (0-9 fraction digits, `Z` or an offset) to UTC, written at micro- or millisecond precision.
import { digits, byte, bytes, need } from './out';
import { QUOTE, COLON, MINUS, PLUS, DOT, ZERO, NINE } from './chars';

let tsSec: i64 = 0;
let tsNanos: u32 = 0;
// A UTC input spelled like the output (`T`, `Z`) is copied instead of recomputed: date, time and fraction
// digits are the same bytes (the usual case; the arithmetic costs ten times more in the interpreter).
let tsSrc: usize = 0;
let tsFrac: usize = 0;
let tsFracN: usize = 0;
let tsCopy: bool = false;

@inline function d(p: usize): i32 { return <i32>load<u8>(p) - ZERO; }
@inline function isD(p: usize): bool { const c = load<u8>(p); return c >= ZERO && c <= NINE; }

function num2(p: usize): i32 { return isD(p) && isD(p + 1) ? d(p) * 10 + d(p + 1) : -1; }

function daysFromCivil(y: i64, m: i64, day: i64): i64 {
  y -= m <= 2 ? 1 : 0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: i32, m: i32): i32 {
  if (m == 2) return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/** Parses [s, e); false when it is not an RFC 3339 date-time. */
export function parseTime(s: usize, e: usize): bool {
  if (e - s < 20) return false;
  if (!(isD(s) && isD(s + 1) && isD(s + 2) && isD(s + 3))) return false;
  const y = d(s) * 1000 + d(s + 1) * 100 + d(s + 2) * 10 + d(s + 3);
  if (load<u8>(s + 4) != MINUS || load<u8>(s + 7) != MINUS || load<u8>(s + 13) != COLON || load<u8>(s + 16) != COLON) return false;
  const t = load<u8>(s + 10) | 0x20;
  if (t != 0x74) return false;
  const mo = num2(s + 5), dd = num2(s + 8), hh = num2(s + 11), mi = num2(s + 14), ss = num2(s + 17);
  if (mo < 1 || mo > 12 || dd < 1 || dd > daysInMonth(y, mo) || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return false;
  let p = s + 19;
  let nanos: u32 = 0;
  tsFrac = p + 1;
  tsFracN = 0;
  if (load<u8>(p) == DOT) {
    p++;
    let n = 0;
    while (p < e && isD(p)) {
      if (n < 9) { nanos = nanos * 10 + <u32>d(p); n++; }
      p++;
    }
    if (n == 0) return false;
    tsFracN = <usize>n;
    while (n < 9) { nanos *= 10; n++; }
  }
  if (p >= e) return false;
  let off: i64 = 0;
  const z = load<u8>(p);
  if ((z | 0x20) == 0x7a) {
    p++;
  } else if (z == PLUS || z == MINUS) {
    if (p + 6 > e || load<u8>(p + 3) != COLON) return false;
    const oh = num2(p + 1), om = num2(p + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
    off = <i64>(oh * 3600 + om * 60);
    if (z == MINUS) off = -off;
    p += 6;
  } else return false;
  if (p != e) return false;
  tsSrc = s;
  tsCopy = z == 0x5a && load<u8>(s + 10) == 0x54; // `Z` and `T`, not `z` or `t`
  tsSec = daysFromCivil(y, mo, dd) * 86400 + <i64>(hh * 3600 + mi * 60 + ss) - off;
  tsNanos = nanos;
  // Outside years 0000-9999 after the offset: not representable.
  return tsSec >= -62167219200 && tsSec <= 253402300799;
}

function writeDate(): void {
  let z = tsSec / 86400;
  let secs = tsSec % 86400;
  if (secs < 0) { secs += 86400; z -= 1; }
  z += 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  byte(QUOTE);
  digits(<u32>y, 4); byte(MINUS); digits(<u32>m, 2); byte(MINUS); digits(<u32>day, 2);
  byte(0x54);
  digits(<u32>(secs / 3600), 2); byte(COLON); digits(<u32>(secs / 60 % 60), 2); byte(COLON); digits(<u32>(secs % 60), 2);
}

/** `"…SS[.ffffff]Z"`: microseconds truncated, no fraction when they are 0 (the Sekoia shape). */
export function writeMicros(): void {
  const us = tsNanos / 1000;
  if (tsCopy) {
    // `"YYYY-MM-DDTHH:MM:SS` as written, then up to six fraction digits as written, zero-padded.
    need(30);
    byte(QUOTE);
    bytes(tsSrc, 19);
    if (us != 0) {
      byte(DOT);
      const n = tsFracN < 6 ? tsFracN : 6;
      bytes(tsFrac, n);
      for (let i = n; i < 6; i++) byte(ZERO);
    }
  } else {
    writeDate();
    if (us != 0) { byte(DOT); digits(us, 6); }
  }
  byte(0x5a); byte(QUOTE);
}

/** `"…SS.mmmZ"`: always three digits (the Elastic shape). */
export function writeMillis(): void {
  writeDate();
  byte(DOT); digits(tsNanos / 1000000, 3);
  byte(0x5a); byte(QUOTE);
}
