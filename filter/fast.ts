// The fast path of both profiles: the embedded event in the shape the collector forwards (compact JSON inside
// `message`), read with only the checks that shape needs. Whatever it does not expect (whitespace, a field
// of an unexpected type, an escape other than `\\`, malformed text) makes it give up, and the general
// walker (walk.ts) reads the event again from its start: the same captures and the same errors, so this
// file changes speed, never results.
import { S, special, skipLean, num, literal, E_NONE } from './scan';
import { utf8Len } from './mem';
import { lookup, KCTX, KNONE, C_SKIP, C_ROOT, TREE, ANY, fieldFlags, ecsReads, elasticContext, elemContext } from './schema';
import { walk, capture, newRow, K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL, K_OBJ, K_ARR, X_DECODE, X_EMPTY } from './walk';
import { ESC_QUOTE, LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE, BACKSLASH, COMMA, COLON, MINUS, ZERO, NINE, SLASH } from './chars';

/** Whether the last string read by `strEnd` holds a `\\` pair (copying it needs decoding). */
let decode: bool = false;

/**
 * Reads string content from `p` (just after its opening `\"`) to its closing `\"`; returns where that closing
 * delimiter starts, or 0 to give up. Accepts what the general reader accepts for such strings, nothing more:
 * plain bytes, valid UTF-8, and `\\` followed by one of JSON's escapes other than `\u`.
 */
@inline function strEnd(p: usize): usize {
  const e = S.end;
  decode = false;
  while (true) {
    while (p + 8 <= e) {
      const m = special(load<u64>(p));
      if (m != 0) { p += <usize>(ctz(m) >> 3); break; }
      p += 8;
    }
    if (p + 2 > e) return 0;
    const c = load<u8>(p);
    if (c == BACKSLASH) {
      const d = load<u8>(p + 1);
      if (d == QUOTE) return p;
      if (d != BACKSLASH || p + 3 > e) return 0;
      // An escape of the inner text: `\\` then `\"`, `\\`, `/` or one of b f n r t.
      decode = true;
      const x = load<u8>(p + 2);
      if (x == BACKSLASH) {
        if (p + 4 > e) return 0;
        const y = load<u8>(p + 3);
        if (y != QUOTE && y != BACKSLASH && y != SLASH) return 0;
        p += 4;
      } else if (x == SLASH || x == 0x62 || x == 0x66 || x == 0x6e || x == 0x72 || x == 0x74) {
        p += 3;
      } else return 0;
      continue;
    }
    if (c < 0x80) return 0; // `"` (the message ended) or a control character
    const n = utf8Len(p, e);
    if (n == 0) return 0;
    p += n;
  }
  return 0; // not reached
}

/**
 * Validates the object or array at S.pos in full, as the general walker does (it is that walker, capturing
 * nothing): jumpcloud_elastic copies everything into jumpcloud.event, and `association` is a tree in both.
 */
function whole(): bool {
  const lean = S.lean;
  S.lean = false;
  const ok = walk(0, false, C_SKIP);
  S.lean = lean;
  return ok;
}

/** How deep the fast path validates untracked subtrees itself; deeper ones go to the (iterative) walker. */
const FAST_NEST: i32 = 8;
let nest: i32 = 0;

/**
 * An object or array the mappings do not track, at S.pos: jumpcloud_ecs only finds its end; the elastic
 * profile (which copies it into jumpcloud.event) validates it in full, itself for a few levels.
 */
function untracked(c: u8): bool {
  if (S.lean) return skipLean();
  if (nest >= FAST_NEST) return whole();
  nest++;
  const ok = c == LBRACE ? object(C_SKIP) : array();
  nest--;
  return ok;
}

/** An untracked array at S.pos, validated in full; false to give up. */
function array(): bool {
  const e = S.end;
  let p = S.pos + 1;
  if (p < e && load<u8>(p) == RBRACKET) { S.pos = p + 1; return true; }
  while (true) {
    if (p + 2 > e) return false;
    const c = load<u8>(p);
    if (c == BACKSLASH) {
      if (load<u16>(p) != ESC_QUOTE) return false;
      const ve = strEnd(p + 2);
      if (ve == 0) return false;
      p = ve + 2;
    } else {
      S.pos = p;
      if (c == LBRACE || c == LBRACKET) { if (!untracked(c)) return false; }
      else if (c == MINUS || (c >= ZERO && c <= NINE)) { if (!num()) return false; }
      else if (literal() == 0) return false;
      p = S.pos;
    }
    if (p >= e) return false;
    const a = load<u8>(p);
    if (a == COMMA) { p++; continue; }
    if (a == RBRACKET) { S.pos = p + 1; return true; }
    return false;
  }
  return false; // not reached
}

/** Reads the object at S.pos whose keys are looked up in `ctx`; false to give up. */
function object(ctx: u8): bool {
  const e = S.end;
  let p = S.pos + 1;
  if (p < e && load<u8>(p) == RBRACE) { S.pos = p + 1; return ctx != C_ROOT; }
  while (true) {
    // Key.
    if (p + 2 > e || load<u16>(p) != ESC_QUOTE) return false;
    const ks = p + 2;
    const ke = strEnd(ks);
    if (ke == 0 || decode) return false;
    p = ke + 2;
    if (p >= e || load<u8>(p) != COLON) return false;
    p++;
    const r = ctx == C_SKIP ? KNONE : lookup(ctx, ks, ke - ks, e);
    let sub: u8 = C_SKIP;
    let field: i32 = KNONE;
    if (r >= KCTX) {
      sub = <u8>(r - KCTX);
      // Objects only the elastic profile reads (geoip, auth_context) are skipped by jumpcloud_ecs.
      if (S.lean) { if (!ecsReads(sub)) sub = C_SKIP; } else sub = elasticContext(sub);
    } else field = r;
    // Value.
    if (p + 2 > e) return false;
    const c = load<u8>(p);
    if (c == BACKSLASH) {
      if (load<u16>(p) != ESC_QUOTE) return false;
      const vs = p + 2;
      const ve = strEnd(vs);
      if (ve == 0) return false;
      capture(0, field, K_STR, vs, ve, decode ? X_DECODE : 0);
      p = ve + 2;
    } else if (c == LBRACE || c == LBRACKET) {
      S.pos = p;
      const ff = field == KNONE ? 0 : fieldFlags(field);
      if (sub != C_SKIP && elemContext(sub) != C_SKIP) {
        // An array of rows (changes).
        if (c != LBRACKET || !rows(elemContext(sub))) return false;
      } else if (sub != C_SKIP) {
        // A tracked object (initiated_by, useragent, ...): jumpcloud_ecs reads one level down, never deeper;
        // the elastic profile's (auth_context.jumpcloud_protect_device) go as deep as the schema does.
        if (c != LBRACE || (S.lean && ctx != C_ROOT) || !object(sub)) return false;
      } else if ((ff & TREE) != 0) {
        // Written out as a tree later (association), so validated in full, as the general walker does.
        if (c != LBRACE) return false;
        if (p + 1 < e && load<u8>(p + 1) == RBRACE) {
          S.pos = p + 2;
          capture(0, field, K_OBJ, p + 1, p + 2, X_EMPTY);
        } else {
          if (p + 3 > e || load<u16>(p + 1) != ESC_QUOTE) return false;
          if (!whole()) return false;
          capture(0, field, K_OBJ, p, S.pos, 0);
        }
      } else if ((ff & ANY) != 0) {
        // A change's from/to that is an object or array: only its kind matters (to jumpcloud_ecs).
        if (!untracked(c)) return false;
        capture(0, field, c == LBRACE ? K_OBJ : K_ARR, p, S.pos, 0);
      } else {
        // A field of the wrong type keeps its kind and span in the general walker: not worth doing here.
        if (field != KNONE || !untracked(c)) return false;
      }
      p = S.pos;
    } else if (c == MINUS || (c >= ZERO && c <= NINE)) {
      S.pos = p;
      if (!num()) return false;
      capture(0, field, K_NUM, p, S.pos, 0);
      p = S.pos;
    } else {
      S.pos = p;
      const l = literal();
      if (l == 0) return false;
      capture(0, field, l == 0x74 ? K_TRUE : l == 0x66 ? K_FALSE : K_NULL, p, S.pos, 0);
      p = S.pos;
    }
    // After the value.
    if (p >= e) return false;
    const a = load<u8>(p);
    if (a == COMMA) { p++; continue; }
    if (a == RBRACE) { S.pos = p + 1; return true; }
    return false;
  }
  return false; // not reached
}

/** An array of rows at S.pos (changes): objects, each a row of the fields of `ctx` ({field, from, to}). */
function rows(ctx: u8): bool {
  const e = S.end;
  let p = S.pos + 1;
  if (p < e && load<u8>(p) == RBRACKET) { S.pos = p + 1; return true; }
  while (true) {
    if (p >= e || load<u8>(p) != LBRACE) return false;
    newRow(0);
    S.pos = p;
    if (!object(ctx)) return false;
    p = S.pos;
    if (p >= e) return false;
    const a = load<u8>(p);
    if (a == COMMA) { p++; continue; }
    if (a == RBRACKET) { S.pos = p + 1; return true; }
    return false;
  }
  return false; // not reached
}

/**
 * Reads the event object at S.pos (escaped domain) into capture table 0. False means "not here": S.err is
 * cleared and the caller must reset table 0 and S.pos and run the general walker.
 */
export function fastEvent(): bool {
  nest = 0;
  if (object(C_ROOT)) return true;
  S.err = E_NONE;
  return false;
}
