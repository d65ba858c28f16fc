// The result buffer: owned by the module, NUL-terminated, valid until the next call (Fluent Bit reads it
// after the call returns). A tiny object writer on top with roll-back, so empty objects never appear.
import { Lit, utf8Len, same } from './mem';
import { nameOf } from './names';
import { LBRACE, LBRACKET, RBRACE, RBRACKET, QUOTE, COMMA, BACKSLASH, ZERO } from './chars';

// Its address and capacity as plain globals: one operation each to read in the interpreter (an Area's fields
// are a global read and a load).
let outBase: usize = heap.alloc(64 * 1024);
let outCap: usize = 64 * 1024;

@inline function ensureOut(size: usize): void { if (size > outCap) growOut(size); }

function growOut(size: usize): void {
  let c = outCap << 1;
  if (c < size) c = size + 1024;
  outBase = heap.realloc(outBase, c);
  outCap = c;
}
/** Write position (offset into OUT). */
export let P: usize = 0;

// Object nesting of the mapped output: marks for roll-back and whether a member was written yet.
const MAXW = 16;
const wMark = new StaticArray<u32>(MAXW);
const wParentFirst = new StaticArray<bool>(MAXW);
let wDepth: i32 = 0;
let first: bool = true;

/**
 * Did the mapping write a top-level member named like [s, s+n)? Read from the output itself, so no writer can
 * forget to declare a name: a field of the record with such a name gives way ("a mapped field wins on a name
 * clash"). Only asked when the record carries fields besides `message`; the output is our own compact JSON,
 * read up to `upTo` (where the mapped members end).
 */
export function clashes(s: usize, n: usize, upTo: usize): bool {
  const o = outBase;
  const end = o + upTo;
  let p = o + 1; // after `{`
  while (p < end) {
    // A member: its key, then its value up to the `,` or `}` at this level.
    const ks = p + 1;
    p = stringEnd(ks, end);
    if (p - ks == n && same(ks, s, n)) return true;
    p += 2; // `":`
    let depth = 0;
    while (p < end) {
      const c = load<u8>(p);
      if (c == QUOTE) { p = stringEnd(p + 1, end) + 1; continue; }
      if (c == LBRACE || c == LBRACKET) depth++;
      else if (c == RBRACE || c == RBRACKET) { if (depth == 0) return false; depth--; }
      else if (c == COMMA && depth == 0) { p++; break; }
      p++;
    }
  }
  return false;
}

/** Where the JSON string whose content starts at p ends (its closing quote). */
function stringEnd(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (c == QUOTE) return p;
    p += c == BACKSLASH ? 2 : 1;
  }
  return end;
}

export function outReset(): void {
  P = 0;
  wDepth = 0;
  first = true;
}
export function outPtr(): usize { return outBase; }
export function outFirst(): bool { return first; }
export function outSetFirst(f: bool): void { first = f; }

/** Terminates the result and returns its address. */
export function outFinish(): usize {
  ensureOut(P + 1);
  store<u8>(outBase + P, 0);
  return outBase;
}

@inline export function need(n: usize): void { ensureOut(P + n); }

@inline export function byte(b: u8): void {
  ensureOut(P + 1);
  store<u8>(outBase + P, b);
  P++;
}

@inline export function bytes(src: usize, n: usize): void {
  ensureOut(P + n);
  memory.copy(outBase + P, src, n);
  P += n;
}

@inline export function lit(l: Lit): void { bytes(l.ptr, l.len); }

/** JSON text written as it is (`'"success"'`, `'["info"]'`). */
@inline export function json(text: string): void { lit(nameOf(text)); }

/** `"name":` preceded by a comma when needed. */
@inline export function key(text: string): void { keyLit(nameOf(text)); }

@inline function keyLit(name: Lit): void {
  // Locals, not the globals, between the stores: each global access is an interpreted operation.
  const f = first;
  const n = f ? name.klen - 1 : name.klen;
  let p = P;
  ensureOut(p + n);
  memory.copy(outBase + p, f ? name.kptr + 1 : name.kptr, n);
  P = p + n;
  first = false;
}

/**
 * `"name":"<content>"`, preceded by a comma when needed: the writers' most common member, fused into one
 * capacity check and a few stores (the interpreter pays per operation, not per byte copied).
 */
@inline export function keyStr(text: string, s: usize, e: usize, decode: bool): void {
  const name = nameOf(text);
  if (decode) { keyLit(name); str(s, e, true); return; }
  const f = first;
  const kn = f ? name.klen - 1 : name.klen;
  const n = e - s;
  const p = P;
  ensureOut(p + kn + n + 2);
  const o = outBase + p;
  memory.copy(o, f ? name.kptr + 1 : name.kptr, kn);
  store<u8>(o + kn, QUOTE);
  memory.copy(o + kn + 1, s, n);
  store<u8>(o + kn + n + 1, QUOTE);
  P = p + kn + n + 2;
  first = false;
}

/** Members ready-made as `,"a":…,"b":…` (the bytes [s, s+len)), written without their comma when they come first. */
@inline export function membersText(s: usize, len: usize): void {
  const f = first;
  const c: usize = f ? 1 : 0;
  const n = len - c;
  const p = P;
  ensureOut(p + n);
  memory.copy(outBase + p, s + c, n);
  P = p + n;
  first = false;
}

/** Comma before an array element when needed. */
@inline export function elem(): void {
  if (!first) byte(COMMA);
  first = false;
}

/** `"name":` then `open`, remembering where it started so that close() can take it back. */
@inline function openNamed(name: Lit, open: u8): void {
  const d = wDepth;
  const f = first;
  const p = P;
  unchecked(wMark[d] = <u32>p);
  unchecked(wParentFirst[d] = f);
  const n = f ? name.klen - 1 : name.klen;
  ensureOut(p + n + 1);
  const o = outBase + p;
  memory.copy(o, f ? name.kptr + 1 : name.kptr, n);
  store<u8>(o + n, open);
  P = p + n + 1;
  wDepth = d + 1;
  first = true;
}

/** Opens `"name":{`; `close()` takes it back if nothing was written inside. */
@inline export function open(text: string): void { openNamed(nameOf(text), LBRACE); }

@inline export function openArray(text: string): void { openNamed(nameOf(text), LBRACKET); }

/** Opens an object as an array element. */
export function openElem(): void {
  unchecked(wMark[wDepth] = <u32>P);
  unchecked(wParentFirst[wDepth] = first);
  elem();
  byte(LBRACE);
  wDepth++;
  first = true;
}

/** Closes the innermost open object/array; returns false (and erases it) when it stayed empty. */
@inline export function close(closer: u8): bool {
  const empty = first;
  wDepth--;
  if (empty) {
    P = <usize>unchecked(wMark[wDepth]);
    first = unchecked(wParentFirst[wDepth]);
    return false;
  }
  byte(closer);
  first = false;
  return true;
}

/** Writes a JSON string of ASCII/UTF-8 bytes that need escaping (error messages, record text). */
export function escaped(src: usize, n: usize): void {
  ensureOut(P + n + 2);
  byte(QUOTE);
  let run = src;
  const end = src + n;
  let s = src;
  while (s < end) {
    const c = load<u8>(s);
    if (c >= 0x20 && c < 0x80 && c != QUOTE && c != BACKSLASH) { s++; continue; }
    if (c >= 0x80) {
      const n = utf8Len(s, end);
      if (n != 0) { s += n; continue; }
    }
    bytes(run, s - run);
    byte(BACKSLASH);
    if (c == QUOTE || c == BACKSLASH) byte(c);
    else if (c == 0x0a) byte(0x6e);
    else if (c == 0x0d) byte(0x72);
    else if (c == 0x09) byte(0x74);
    else if (c >= 0x80) { byte(0x75); byte(0x66); byte(0x66); byte(0x66); byte(0x64); } // invalid UTF-8: U+FFFD
    else {
      byte(0x75); byte(0x30); byte(0x30);
      byte(hex(c >> 4)); byte(hex(c & 15));
    }
    s++;
    run = s;
  }
  bytes(run, end - run);
  byte(QUOTE);
}

@inline function hex(d: u8): u8 { return d < 10 ? 0x30 + d : 0x57 + d; }

/** Decimal digits of `v`. */
export function uint(v: u32): void {
  if (v >= 10) uint(v / 10);
  byte(<u8>(ZERO + v % 10));
}

/** Two or more digits, zero-padded (dates). */
export function digits(v: u32, n: i32): void {
  need(<usize>n);
  let i = n - 1;
  while (i >= 0) {
    store<u8>(outPtr() + P + <usize>i, <u8>(ZERO + v % 10));
    v /= 10;
    i--;
  }
  P += <usize>n;
}

/**
 * Copies string content as it stands in the text. Plain text and escaped text without `\\` are copied as
 * they are (their escapes are valid JSON escapes of the same characters); escaped text with `\\` has its
 * outer level undone: `\\` → `\`, `\"` → `"`.
 */
export function content(s: usize, e: usize, decode: bool): void {
  if (!decode) { bytes(s, e - s); return; }
  need(e - s);
  let run = s;
  let p = s;
  while (p < e) {
    if (load<u8>(p) != BACKSLASH) { p++; continue; }
    const d = load<u8>(p + 1);
    if (d == BACKSLASH || d == QUOTE) {
      bytes(run, p - run);
      byte(d);
      p += 2;
      run = p;
    } else p += 2;
  }
  bytes(run, e - run);
}

/** `"<content>"` of a span without escapes to undo (`content` with decode off), in one go. */
@inline function quoted(s: usize, n: usize): void {
  const p = P;
  ensureOut(p + n + 2);
  const o = outBase + p;
  store<u8>(o, QUOTE);
  memory.copy(o + 1, s, n);
  store<u8>(o + n + 1, QUOTE);
  P = p + n + 2;
}

/** `"<key>":`, preceded by a comma unless it is the first member, in one go; the key has no escapes to undo. */
@inline export function member(s: usize, n: usize): void {
  const f = first;
  const c: usize = f ? 0 : 1;
  const p = P;
  ensureOut(p + n + 3 + c);
  const o = outBase + p;
  if (!f) store<u8>(o, COMMA);
  store<u8>(o + c, QUOTE);
  memory.copy(o + c + 1, s, n);
  store<u16>(o + c + n + 1, 0x3a22); // '":'
  P = p + n + 3 + c;
  first = false;
}

/** A JSON string from a span of the text. */
@inline export function str(s: usize, e: usize, decode: bool): void {
  if (!decode) { quoted(s, e - s); return; }
  byte(QUOTE);
  content(s, e, true);
  byte(QUOTE);
}

/** Roll-back point for a member about to be written: returns P; `first` is saved separately by the caller. */
export function mark(): usize { return P; }
export function rollback(m: usize, f: bool): void { P = m; first = f; }
