// Reading captured fields and writing them out: the vocabulary both profiles are written in.
import { spanIs, same as sameBytes } from './mem';
import { capAt, CAP, K_STR, K_TRUE, K_FALSE, K_NUM, X_DECODE } from './walk';
import { str, bytes, content, elem, keyStr, open, close } from './out';
import { RBRACE } from './chars';
import { nameOf } from './names';
import { isIp } from './ip';

/** Capture table (0: event inside `message`, 1: the record itself) the writers read: where it starts. */
let base: usize = 0;
export function useTable(t: i32): void { base = capAt(t, 0); }

/** Field f's capture {start, end, kind, flags} (walk.ts). */
@inline function at(f: i32): usize { return base + <usize>f * CAP; }

/** A non-empty string? (`""` never produces a field.) */
@inline export function has(f: i32): bool { const p = at(f); return load<u8>(p, 8) == K_STR && load<u32>(p, 4) > load<u32>(p); }
@inline export function isBool(f: i32): bool { const k = load<u8>(at(f), 8); return k == K_TRUE || k == K_FALSE; }
@inline export function isTrue(f: i32): bool { return load<u8>(at(f), 8) == K_TRUE; }
@inline export function isNum(f: i32): bool { return load<u8>(at(f), 8) == K_NUM; }
@inline export function plain(f: i32): bool { return (load<u8>(at(f), 9) & X_DECODE) == 0; }
@inline export function s(f: i32): usize { return <usize>load<u32>(at(f)); }
@inline export function e(f: i32): usize { return <usize>load<u32>(at(f), 4); }

/** Does string field f hold exactly `text`? */
@inline export function is(f: i32, text: string): bool { return has(f) && plain(f) && spanIs(s(f), e(f) - s(f), nameOf(text)); }

@inline export function hasIp(f: i32): bool { return has(f) && plain(f) && isIp(s(f), e(f)); }

/** `"name":"<f>"` when f is a non-empty string. */
@inline export function copy(name: string, f: i32): void {
  const p = at(f);
  if (load<u8>(p, 8) != K_STR) return;
  const a = <usize>load<u32>(p), b = <usize>load<u32>(p, 4);
  if (b > a) keyStr(name, a, b, (load<u8>(p, 9) & X_DECODE) != 0);
}

/** `"parent":{"name":"<f>"}` when f is a non-empty string: a one-member object. */
@inline export function copyIn(parent: string, name: string, f: i32): void {
  if (!has(f)) return;
  open(parent);
  copy(name, f);
  close(RBRACE);
}

/** The string value of f (which must be present). */
@inline export function value(f: i32): void { str(s(f), e(f), !plain(f)); }
export function valueContent(f: i32): void { content(s(f), e(f), !plain(f)); }

/** f's text as it stands (a number). */
export function raw(f: i32): void { bytes(s(f), e(f) - s(f)); }

/** Same string content? (Distinct values of related.*) */
export function same(a: i32, b: i32): bool {
  const n = e(a) - s(a);
  return n == e(b) - s(b) && plain(a) == plain(b) && sameBytes(s(a), s(b), n);
}

/** Appends f as an array element unless an earlier one (listed in `prev`, -1 for none) holds the same. */
@inline export function distinctElem(f: i32, p1: i32, p2: i32): void {
  if (p1 >= 0 && same(f, p1)) return;
  if (p2 >= 0 && same(f, p2)) return;
  elem();
  value(f);
}
