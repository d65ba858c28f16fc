// Copies a JSON object from the text into the output, dropping empty values (null, "", {}, [])
// recursively and keys excluded by context (jumpcloud.event of the elastic profile, association).
// Iterative like the walker, and cut at a stated depth.
import { Area } from './mem';
import { S, ws, str, num, literal } from './scan';
import { lookup, KCTX, KNONE, C_SKIP, EL_DROP, KEEP, contextFlags, fieldFlags, treeLooks } from './schema';
import { P, byte, bytes, content, rollback, outFirst, outSetFirst, elem } from './out';
import { LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE, BACKSLASH, COMMA, COLON, MINUS, ZERO, NINE } from './chars';

// Tree contexts beyond the schema's (which number from 0, C_SKIP meaning "no lookups"): inside an array kept
// as it is, and at such an array itself.
const T_KEEP: u8 = 254; // copied as is, empty values too (changes)
const T_KEEPIN: u8 = 255; // dropped when nothing in it is non-empty; its contents copied as is

/** The tree context the value of a key leading to schema context `c` is written in; -1: left out. */
@inline function treeContext(c: u8): i32 {
  const fl = contextFlags(c);
  if ((fl & EL_DROP) != 0) return -1;
  if ((fl & KEEP) != 0) return T_KEEPIN;
  return treeLooks(c) ? c : C_SKIP;
}

export const TREE_MAX_DEPTH: i32 = 32;
/** Set when a subtree deeper than TREE_MAX_DEPTH was cut. */
export let treeCut: bool = false;
/** Inside `changes`: whether a non-empty value was written (it is dropped when nothing would survive pruning). */
let keptLeaf: bool = false;

// Stack: kind ('{' or '['), children's ctx, parent's first flag, kept even when empty, roll-back mark.
const stack = new Area(64 * 8);

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
        stack.ensure(<usize>(depth + 1) * 8);
        const t = stack.ptr + <usize>depth * 8;
        store<u8>(t, c);
        store<u8>(t, ctx == T_KEEPIN ? T_KEEP : ctx, 1);
        store<u8>(t, memberFirst ? 1 : 0, 2);
        // 1: kept even when empty (inside changes); 2: changes itself, kept when some value in it is not empty.
        store<u8>(t, keep ? 1 : ctx == T_KEEPIN ? 2 : 0, 3);
        if (ctx == T_KEEPIN) { keptLeaf = false; ctx = T_KEEP; }
        store<u32>(t, <u32>memberMark, 4);
        depth++;
        byte(c);
        outSetFirst(true);
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
      const parentFirst = load<u8>(t, 2) != 0;
      const keepMode = load<u8>(t, 3);
      if ((outFirst() && keepMode == 0) || (keepMode == 2 && !keptLeaf)) {
        rollback(<usize>load<u32>(t, 4), parentFirst);
      } else {
        byte(kind == LBRACE ? RBRACE : RBRACKET);
        outSetFirst(false);
      }
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
    // What the key leads to: a field mapped elsewhere or a dropped object is left out.
    const next = r >= KCTX ? treeContext(<u8>(r - KCTX)) : r != KNONE && (fieldFlags(r) & EL_DROP) != 0 ? -1 : C_SKIP;
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
