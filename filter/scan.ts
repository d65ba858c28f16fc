import { utf8Len } from './mem';
import { QUOTE, BACKSLASH, LBRACE, RBRACE, LBRACKET, RBRACKET, COLON, COMMA, MINUS, PLUS, DOT, ZERO, NINE, SLASH, LF, CR, TAB, SPACE, ESC_QUOTE } from './chars';

// JSON tokenizer over raw bytes in linear memory, in one of two domains:
// - plain: ordinary JSON text (the record Fluent Bit hands over);
// - escaped: JSON text that is itself the content of a JSON string (the record's `message`), read in place
//   without un-escaping it first: a quote is `\"`, a backslash `\\`, whitespace may be `\n`.
// Reading `message` in place is what keeps the filter to one pass over its bytes.

export const E_NONE: i32 = 0;
export const E_END: i32 = 1; // text ends inside a value
export const E_CHAR: i32 = 2; // unexpected character
export const E_ESCAPE: i32 = 3; // bad escape sequence
export const E_UTF8: i32 = 4; // invalid UTF-8
export const E_NUMBER: i32 = 5;
export const E_TRAILING: i32 = 6; // text after the value

/** Scanner state (static fields are plain wasm globals). */
@final export class S {
  static pos: usize = 0;
  static end: usize = 0;
  static base: usize = 0; // start of the text, for error offsets
  static esc: bool = false;
  static err: i32 = E_NONE;
  static errAt: usize = 0;
  /** Last string's content span and whether it holds a `\\` pair (escaped domain: needs decoding to copy). */
  static ss: usize = 0;
  static se: usize = 0;
  static sDecode: bool = false;
  static sHigh: bool = false;
  /** Untracked subtrees may be skipped without full validation (the ECS profile never writes them out). */
  static lean: bool = false;
}

/** E_END at the end of the text (or of the enclosing string, in the escaped domain), else E_CHAR. */
export function unexpected(): bool {
  const p = S.pos;
  return fail(p >= S.end || (S.esc && load<u8>(p) == QUOTE) ? E_END : E_CHAR);
}

export function fail(code: i32): bool {
  if (S.err == E_NONE) { S.err = code; S.errAt = S.pos - S.base; }
  return false;
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/**
 * High bit set in the lowest byte of `v` that is `"`, `\`, < 0x20 or >= 0x80 (the only bytes a string scan
 * must look at); ctz of it finds that byte. Bits above the first hit may be spurious (borrows): never used.
 */
@inline export function special(v: u64): u64 {
  const q = v ^ (0x22 * ONES);
  const b = v ^ (0x5c * ONES);
  return (((q - ONES) & ~q) | ((b - ONES) & ~b) | (v - 0x20 * ONES) | v) & HIGHS;
}

/** Skips whitespace; in the escaped domain also `\n`, `\r`, `\t`. Inline fast path: compact JSON has none. */
@inline export function ws(): void {
  const p = S.pos;
  if (p + 1 < S.end) {
    const c = load<u8>(p);
    // Not whitespace: any byte above space but `\`, and `\"` (a quote in the escaped domain).
    if (c > 0x20 && (c != BACKSLASH || load<u8>(p + 1) == QUOTE)) return;
  }
  wsSlow();
}

function wsSlow(): void {
  let p = S.pos;
  const e = S.end;
  while (p < e) {
    const c = load<u8>(p);
    if (c == SPACE || c == LF || c == CR || c == TAB) { p++; continue; }
    if (S.esc && c == BACKSLASH && p + 1 < e) {
      const d = load<u8>(p + 1);
      if (d == 0x6e || d == 0x72 || d == 0x74) { p += 2; continue; }
    }
    break;
  }
  S.pos = p;
}

/** Is the next token a string? */
@inline export function atQuote(): bool {
  const p = S.pos;
  if (p >= S.end) return false;
  const c = load<u8>(p);
  if (!S.esc) return c == QUOTE;
  return c == BACKSLASH && p + 1 < S.end && load<u8>(p + 1) == QUOTE;
}

@inline function isHex(c: u8): bool {
  return (c >= ZERO && c <= NINE) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function hex4(p: usize): bool {
  return p + 4 <= S.end && isHex(load<u8>(p)) && isHex(load<u8>(p + 1)) && isHex(load<u8>(p + 2)) && isHex(load<u8>(p + 3));
}

/**
 * Reads a string at S.pos (which must be at its quote). Sets S.ss/S.se to the content (as it stands in the
 * text) and S.sDecode when copying it out needs decoding. False on malformed input.
 */
export function str(): bool {
  const e = S.end;
  let p = S.pos + (S.esc ? 2 : 1);
  S.ss = p;
  S.sDecode = false;
  S.sHigh = false;
  while (true) {
    // Eight bytes a step, then straight to the first byte that matters.
    while (p + 8 <= e) {
      const m = special(load<u64>(p));
      if (m != 0) { p += <usize>(ctz(m) >> 3); break; }
      p += 8;
    }
    if (p >= e) { S.pos = p; return fail(E_END); }
    const c = load<u8>(p);
    if (c == QUOTE) {
      if (S.esc) { S.pos = p; return fail(E_END); } // the enclosing string ended inside this one
      S.se = p;
      S.pos = p + 1;
      return true;
    }
    if (c == BACKSLASH) {
      if (p + 1 >= e) { S.pos = p; return fail(E_END); }
      const d = load<u8>(p + 1);
      if (S.esc) {
        if (d == QUOTE) { S.se = p; S.pos = p + 2; return true; }
        if (d == BACKSLASH) {
          // An escape of the inner text: `\\` then the escaped character, itself written escaped or plain.
          S.sDecode = true;
          p += 2;
          if (p >= e) { S.pos = p; return fail(E_END); }
          let x = load<u8>(p);
          if (x == BACKSLASH) {
            if (p + 1 >= e) { S.pos = p; return fail(E_END); }
            x = load<u8>(p + 1);
            if (x != QUOTE && x != BACKSLASH && x != SLASH) { S.pos = p; return fail(E_ESCAPE); }
            p += 2;
          } else if (x == 0x75) {
            if (!hex4(p + 1)) { S.pos = p; return fail(E_ESCAPE); }
            p += 5;
          } else if (x == SLASH || x == 0x62 || x == 0x66 || x == 0x6e || x == 0x72 || x == 0x74) {
            p += 1;
          } else { S.pos = p; return fail(E_ESCAPE); }
          continue;
        }
      }
      if (d == 0x75) {
        if (!hex4(p + 2)) { S.pos = p; return fail(E_ESCAPE); }
        p += 6;
        continue;
      }
      if (d == QUOTE || d == BACKSLASH || d == SLASH || d == 0x62 || d == 0x66 || d == 0x6e || d == 0x72 || d == 0x74) {
        p += 2;
        continue;
      }
      S.pos = p;
      return fail(E_ESCAPE);
    }
    if (c < 0x20) { S.pos = p; return fail(E_CHAR); }
    if (c >= 0x80) {
      const n = utf8Len(p, e);
      S.sHigh = true;
      if (n == 0) {
        // The embedded event must be UTF-8; the record's own fields are carried byte for byte whatever they hold.
        if (S.esc) { S.pos = p; return fail(E_UTF8); }
        p++;
        continue;
      }
      p += n;
      continue;
    }
    p++;
  }
  return false; // not reached: the loop returns
}

@inline function digit(c: u8): bool { return c >= ZERO && c <= NINE; }

/** Reads a JSON number at S.pos. */
export function num(): bool {
  let p = S.pos;
  const e = S.end;
  if (p < e && load<u8>(p) == MINUS) p++;
  if (p >= e || !digit(load<u8>(p))) { S.pos = p; return fail(E_NUMBER); }
  if (load<u8>(p) == ZERO) p++;
  else while (p < e && digit(load<u8>(p))) p++;
  if (p < e && load<u8>(p) == DOT) {
    p++;
    if (p >= e || !digit(load<u8>(p))) { S.pos = p; return fail(E_NUMBER); }
    while (p < e && digit(load<u8>(p))) p++;
  }
  if (p < e && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < e && (load<u8>(p) == PLUS || load<u8>(p) == MINUS)) p++;
    if (p >= e || !digit(load<u8>(p))) { S.pos = p; return fail(E_NUMBER); }
    while (p < e && digit(load<u8>(p))) p++;
  }
  S.pos = p;
  return true;
}

/** Reads `true`, `false` or `null`; returns its first letter, or 0 on error. */
export function literal(): u8 {
  const p = S.pos;
  const c = load<u8>(p);
  let n: usize = 0;
  if (c == 0x74 && p + 4 <= S.end && load<u32>(p) == 0x65757274) n = 4; // true
  else if (c == 0x6e && p + 4 <= S.end && load<u32>(p) == 0x6c6c756e) n = 4; // null
  else if (c == 0x66 && p + 5 <= S.end && load<u32>(p + 1) == 0x65736c61) n = 5; // false
  if (n == 0) { unexpected(); return 0; }
  S.pos = p + n;
  return c;
}

/** High bit in the lowest byte of `v` equal to `b` (exact for the first match). */
@inline function eqMask(v: u64, b: u64): u64 {
  const x = v ^ (b * ONES);
  return (x - ONES) & ~x & HIGHS;
}

/**
 * Skips the object or array at S.pos checking only what finding its end needs: bracket depth and string
 * extent. For subtrees a mapping never writes out; 3-4x cheaper than the tokenizer on dense JSON.
 */
export function skipLean(): bool {
  if (S.esc) return skipLeanEscaped();
  const e = S.end;
  let p = S.pos;
  let depth = 0;
  while (p < e) {
    const c = load<u8>(p);
    if (c == LBRACE || c == LBRACKET) { depth++; p++; continue; }
    if (c == RBRACE || c == RBRACKET) {
      p++;
      if (--depth == 0) { S.pos = p; return true; }
      continue;
    }
    p++;
    if (c != QUOTE) continue;
    // A string: only `"` and `\` matter.
    while (true) {
      while (p + 8 <= e) {
        const v = load<u64>(p);
        const m = eqMask(v, BACKSLASH) | eqMask(v, QUOTE);
        if (m != 0) { p += <usize>(ctz(m) >> 3); break; }
        p += 8;
      }
      if (p >= e) break;
      const x = load<u8>(p);
      if (x == QUOTE) { p++; break; }
      p += x == BACKSLASH ? 2 : 1;
    }
  }
  S.pos = p;
  return fail(E_END);
}

/**
 * skipLean in the escaped domain (the usual case: a subtree of the event inside `message`), where every
 * string delimiter is `\"`: outside strings a byte loop that knows brackets by `c | 0x20` (only `[`/`{` give
 * LBRACE, only `]`/`}` give RBRACE), inside strings an eight-byte search for the next backslash or raw quote.
 */
function skipLeanEscaped(): bool {
  const e = S.end;
  let p = S.pos;
  let depth = 0;
  while (p < e) {
    const c = load<u8>(p);
    if (c == BACKSLASH) {
      if (p + 1 >= e) break;
      const d = load<u8>(p + 1);
      p += 2;
      if (d != QUOTE) continue; // `\n` etc.: whitespace between tokens
      // A string: only backslashes matter, and a raw quote: the enclosing string (`message`) ended in it,
      // and whatever follows belongs to the record, not to this event.
      while (true) {
        while (p + 8 <= e) {
          const v = load<u64>(p);
          const m = eqMask(v, BACKSLASH) | eqMask(v, QUOTE);
          if (m != 0) { p += <usize>(ctz(m) >> 3); break; }
          p += 8;
        }
        if (p >= e) { S.pos = p; return fail(E_END); }
        const x = load<u8>(p);
        if (x == QUOTE) { S.pos = p; return fail(E_END); } // the enclosing string ended
        if (x != BACKSLASH) { p++; continue; } // the tail: fewer than eight bytes left
        if (p + 1 >= e) { S.pos = p; return fail(E_END); }
        const d2 = load<u8>(p + 1);
        p += 2;
        if (d2 == QUOTE) {
          // The string ended. The usual next token is another string after `:` or `,`: enter it directly.
          if (p + 3 <= e && load<u16>(p + 1) == ESC_QUOTE) {
            const n = load<u8>(p);
            if (n == COLON || n == COMMA) { p += 3; continue; }
          }
          break;
        }
        // `\\` then one character of the inner text, itself possibly written `\"` or `\\`.
        if (d2 == BACKSLASH) { if (p < e && load<u8>(p) == BACKSLASH) p += 2; else p += 1; }
      }
      continue;
    }
    const b = c | 0x20;
    if (b == LBRACE) depth++;
    else if (b == RBRACE) {
      if (--depth == 0) { S.pos = p + 1; return true; }
    } else if (c == QUOTE) break; // the enclosing string ended
    p++;
  }
  S.pos = p;
  return fail(E_END);
}
