// Copies a JSON object from the text into the output, dropping empty values (null, "", {}, [])
// recursively and keys excluded by context (jumpcloud.event of the elastic profile, association).
// Iterative like the walker, and cut at a stated depth.
import { Area } from './mem';
import { S, ws, str, num, literal, skipLean } from './scan';
import { lookup, KCTX, KNONE, C_SKIP, EL_DROP, KEEP, contextFlags, fieldFlags, treeLooks, elasticContext } from './schema';
import { P, byte, bytes, content, rollback, outFirst, outSetFirst, elem, member, str as strOut } from './out';
import { LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE, BACKSLASH, COMMA, COLON, MINUS, ZERO, NINE, ESC_QUOTE } from './chars';

// Tree contexts beyond the schema's (which number from 0, C_SKIP meaning "no lookups"): inside an array kept
// as it is, and at such an array itself.
const T_KEEP: u8 = 254; // copied as is, empty values too (changes)
const T_KEEPIN: u8 = 255; // dropped when nothing in it is non-empty; its contents copied as is

/** The tree context the value of a key leading to schema context `c` is written in; -1: left out. */
@inline function treeContext(c: u8): i32 {
  const fl = contextFlags(c);
  if ((fl & EL_DROP) != 0) return -1;
  if ((fl & KEEP) != 0) return T_KEEPIN;
  return treeLooks(c) ? elasticContext(c) : C_SKIP; // jumpcloud.event: the elastic profile's keys
}

export const TREE_MAX_DEPTH: i32 = 32;
/** Set when a subtree deeper than TREE_MAX_DEPTH was cut. */
export let treeCut: bool = false;
/** Inside `changes`: whether a non-empty value was written (it is dropped when nothing would survive pruning). */
let keptLeaf: bool = false;

// Stack: kind ('{' or '['), children's ctx, parent's first flag, kept even when empty, roll-back mark.
const stack = new Area(64 * 8);

/** The tree context of a member whose key looked up to `r` (KNONE when not looked up); -1: left out (a field mapped elsewhere, a dropped object). */
@inline function memberContext(r: i32): i32 {
  return r >= KCTX ? treeContext(<u8>(r - KCTX)) : r != KNONE && (fieldFlags(r) & EL_DROP) != 0 ? -1 : C_SKIP;
}

/**
 * Pushes container `c` (`{` or `[`), a value in context `ctx`, on the stack at `depth` and writes its opening
 * byte; returns the context its contents are written in.
 */
@inline function openContainer(depth: i32, c: u8, ctx: u8, memberFirst: bool, memberMark: usize): u8 {
  stack.ensure(<usize>(depth + 1) * 8);
  const t = stack.ptr + <usize>depth * 8;
  store<u8>(t, c);
  store<u8>(t, ctx == T_KEEPIN ? T_KEEP : ctx, 1);
  store<u8>(t, memberFirst ? 1 : 0, 2);
  // 1: kept even when empty (inside changes); 2: changes itself, kept when some value in it is not empty.
  store<u8>(t, ctx == T_KEEP ? 1 : ctx == T_KEEPIN ? 2 : 0, 3);
  store<u32>(t, <u32>memberMark, 4);
  byte(c);
  outSetFirst(true);
  if (ctx == T_KEEPIN) { keptLeaf = false; return T_KEEP; }
  return ctx;
}

/** Closes the container of stack entry `t`: its closing byte, or the whole member taken back when nothing was kept inside. */
@inline function closeContainer(t: usize, kind: u8): void {
  const parentFirst = load<u8>(t, 2) != 0;
  const keepMode = load<u8>(t, 3);
  if ((outFirst() && keepMode == 0) || (keepMode == 2 && !keptLeaf)) {
    rollback(<usize>load<u32>(t, 4), parentFirst);
  } else {
    byte(kind == LBRACE ? RBRACE : RBRACKET);
    outSetFirst(false);
  }
}

/** Skips one (already validated) value at S.pos. */
function skipValue(): void {
  let depth = 0;
  while (true) {
    ws();
    const c = load<u8>(S.pos);
    if (c == LBRACE || c == LBRACKET) { depth++; S.pos++; continue; }
    if (c == RBRACE || c == RBRACKET) { depth--; S.pos++; if (depth == 0) return; continue; }
    if (c == COMMA || c == COLON) { S.pos++; continue; }
    if (c == QUOTE || c == BACKSLASH) str();
    else if (c == MINUS || (c >= ZERO && c <= NINE)) num();
    else literal();
    if (depth == 0) return;
  }
}

/**
 * Writes the object at `s` (text ending at `end`, domain `esc`) as the value of a key the caller has just
 * written. Returns false, having written nothing, when nothing is left of it.
 */
export function writeTree(s: usize, end: usize, esc: bool, rootCtx: u8): bool {
  if (esc) {
    const start = P, first = outFirst();
    const r = fastTree(s, end, rootCtx);
    if (r >= 0) return r != 0;
    rollback(start, first);
  }
  return generalTree(s, end, esc, rootCtx);
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** End of the escaped-domain string whose content starts at `p`: where its closing `\"` starts. Sets `decoded`. */
let decoded: bool = false;
@inline function stringEnd(p: usize, e: usize): usize {
  decoded = false;
  while (true) {
    while (p + 8 <= e) {
      const x = load<u64>(p) ^ (0x5c * ONES);
      const m = (x - ONES) & ~x & HIGHS;
      if (m != 0) { p += <usize>(ctz(m) >> 3); break; }
      p += 8;
    }
    while (p < e && load<u8>(p) != BACKSLASH) p++;
    if (p + 1 >= e) return e;
    const d = load<u8>(p + 1);
    if (d == QUOTE) return p;
    // `\\` then the inner escape's character, itself written `\"` or `\\` or plain.
    decoded = true;
    p += p + 2 < e && load<u8>(p + 2) == BACKSLASH ? 4 : 3;
  }
  return e; // not reached
}

/** Where the number or literal at `p` (validated text) ends: at the next delimiter. */
@inline function scalarEnd(p: usize, e: usize): usize {
  while (p < e) {
    const x = load<u8>(p);
    if (x == COMMA || x == RBRACE || x == RBRACKET || x == BACKSLASH || x <= 0x20) break;
    p++;
  }
  return p;
}

/**
 * writeTree for compact escaped text (the event inside `message` as the collector forwards it), which a reader
 * has validated: the same output, with the text read through locals instead of the tokenizer's state. Returns
 * 1 (written), 0 (nothing left of it) or -1 when the text is not that shape (whitespace, too deep): the caller
 * takes the output back and runs the general writer.
 */
function fastTree(s: usize, end: usize, rootCtx: u8): i32 {
  treeCut = false;
  const start = P;
  let p = s;
  let depth = 0;
  let ctx = rootCtx;
  let memberMark: usize = P;
  let memberFirst = outFirst();
  let state = 0; // 0 value, 1 after, 2 key, 3 element
  while (true) {
    if (state == 1 && depth == 0) return P != start ? 1 : 0;
    if (p >= end) return -1;
    if (state == 0) {
      const keep = ctx == T_KEEP;
      const c = load<u8>(p);
      if (c == LBRACE || c == LBRACKET) {
        if (depth >= TREE_MAX_DEPTH) return -1;
        ctx = openContainer(depth, c, ctx, memberFirst, memberMark);
        depth++;
        p++;
        if (p >= end) return -1;
        if (load<u8>(p) == (c == LBRACE ? RBRACE : RBRACKET)) { state = 1; continue; }
        state = c == LBRACE ? 2 : 3;
        continue;
      }
      if (c == BACKSLASH) {
        if (p + 1 >= end || load<u8>(p + 1) != QUOTE) return -1; // `\n` and the like: whitespace
        const vs = p + 2;
        const ve = stringEnd(vs, end);
        if (ve >= end) return -1;
        if (ve == vs && !keep) rollback(memberMark, memberFirst);
        else {
          strOut(vs, ve, decoded);
          if (ve != vs) keptLeaf = true;
        }
        p = ve + 2;
      } else {
        const a = p;
        p = scalarEnd(p, end);
        const isNull = c == 0x6e; // `n`ull
        if (isNull && !keep) rollback(memberMark, memberFirst);
        else { bytes(a, p - a); if (!isNull) keptLeaf = true; }
      }
      state = 1;
      continue;
    }
    if (state == 1) {
      const c = load<u8>(p);
      const t = stack.ptr + <usize>(depth - 1) * 8;
      const kind = load<u8>(t);
      ctx = load<u8>(t, 1);
      if (c == COMMA) { p++; state = kind == LBRACE ? 2 : 3; continue; }
      if (c != (kind == LBRACE ? RBRACE : RBRACKET)) return -1;
      p++;
      depth--;
      closeContainer(t, kind);
      if (depth > 0) ctx = load<u8>(stack.ptr + <usize>(depth - 1) * 8, 1);
      continue;
    }
    if (state == 3) {
      memberMark = P;
      memberFirst = outFirst();
      elem();
      if (ctx != T_KEEP) ctx = C_SKIP;
      state = 0;
      continue;
    }
    // state 2: a key
    if (p + 2 >= end || load<u16>(p) != ESC_QUOTE) return -1;
    const ks = p + 2;
    const ke = stringEnd(ks, end);
    const kd = decoded;
    if (ke + 2 >= end || load<u8>(ke + 2) != COLON) return -1;
    p = ke + 3;
    const r = ctx == T_KEEP || ctx == C_SKIP || kd ? KNONE : lookup(ctx, ks, ke - ks, end);
    const next = memberContext(r);
    if (next < 0) {
      // Left out: skip the value.
      const c = load<u8>(p);
      if (c == LBRACE || c == LBRACKET) {
        S.pos = p; S.end = end; S.esc = true;
        if (!skipLean()) return -1;
        p = S.pos;
      } else if (c == BACKSLASH) {
        if (p + 1 >= end || load<u8>(p + 1) != QUOTE) return -1;
        const ve = stringEnd(p + 2, end);
        if (ve >= end) return -1;
        p = ve + 2;
      } else p = scalarEnd(p, end);
      state = 1;
      continue;
    }
    memberMark = P;
    memberFirst = outFirst();
    if (kd) {
      if (!memberFirst) byte(COMMA);
      outSetFirst(false);
      byte(QUOTE); content(ks, ke, true); byte(QUOTE); byte(COLON);
    } else member(ks, ke - ks);
    if (ctx != T_KEEP) ctx = <u8>next;
    state = 0;
  }
  return -1; // not reached
}

/** writeTree for any text a reader validated: through the tokenizer, whitespace and all. */
function generalTree(s: usize, end: usize, esc: bool, rootCtx: u8): bool {
  S.pos = s;
  S.end = end;
  S.esc = esc;
  treeCut = false;
  const start = P;
  let depth = 0;
  let ctx = rootCtx;
  let memberMark: usize = P;
  let memberFirst = outFirst();
  let state = 0; // 0 value, 1 after, 2 key, 3 element
  while (true) {
    if (state == 0) {
      ws();
      const keep = ctx == T_KEEP;
      const c = load<u8>(S.pos);
      if (c == LBRACE || c == LBRACKET) {
        if (depth >= TREE_MAX_DEPTH) {
          skipValue();
          treeCut = true;
          rollback(memberMark, memberFirst);
          state = 1;
          continue;
        }
        ctx = openContainer(depth, c, ctx, memberFirst, memberMark);
        depth++;
        S.pos++;
        ws();
        const closer: u8 = c == LBRACE ? RBRACE : RBRACKET;
        if (load<u8>(S.pos) == closer) { state = 1; continue; }
        state = c == LBRACE ? 2 : 3;
        continue;
      }
      if (c == QUOTE || c == BACKSLASH) {
        str();
        if (S.se == S.ss && !keep) rollback(memberMark, memberFirst);
        else { byte(QUOTE); content(S.ss, S.se, S.sDecode); byte(QUOTE); if (S.se != S.ss) keptLeaf = true; }
      } else {
        const a = S.pos;
        if (c == MINUS || (c >= ZERO && c <= NINE)) num(); else literal();
        const isNull = c == 0x6e; // `n`ull
        if (isNull && !keep) rollback(memberMark, memberFirst);
        else { bytes(a, S.pos - a); if (!isNull) keptLeaf = true; }
      }
      state = 1;
      continue;
    }
    if (state == 1) {
      if (depth == 0) return P != start;
      ws();
      const c = load<u8>(S.pos);
      const t = stack.ptr + <usize>(depth - 1) * 8;
      const kind = load<u8>(t);
      ctx = load<u8>(t, 1);
      if (c == COMMA) { S.pos++; state = kind == LBRACE ? 2 : 3; continue; }
      // The container closes: take it back when nothing was kept inside.
      S.pos++;
      depth--;
      closeContainer(t, kind);
      if (depth > 0) ctx = load<u8>(stack.ptr + <usize>(depth - 1) * 8, 1);
      continue;
    }
    if (state == 3) {
      memberMark = P;
      memberFirst = outFirst();
      elem();
      if (ctx != T_KEEP) ctx = C_SKIP;
      state = 0;
      continue;
    }
    // state 2: a key
    ws();
    str();
    const ks = S.ss, ke = S.se, kd = S.sDecode;
    ws();
    S.pos++; // ':'
    const r = ctx == T_KEEP || ctx == C_SKIP || kd ? KNONE : lookup(ctx, ks, ke - ks, S.end);
    const next = memberContext(r);
    if (next < 0) {
      skipValue();
      state = 1;
      continue;
    }
    memberMark = P;
    memberFirst = outFirst();
    if (!memberFirst) byte(COMMA);
    outSetFirst(false);
    byte(QUOTE); content(ks, ke, kd); byte(QUOTE); byte(COLON);
    if (ctx != T_KEEP) ctx = <u8>next;
    state = 0;
  }
}
