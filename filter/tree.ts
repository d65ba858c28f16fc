// Copies a JSON object from the text into the output, dropping empty values (null, "", {}, [])
// recursively and keys excluded by context (jumpcloud.event of the elastic profile, association).
// Iterative like the walker, and cut at a stated depth.
import { Area } from './mem';
import { S, ws, str, num, literal } from './scan';
import { lookup, KCTX, KDROP, T_KEEP, T_KEEPIN, T_OTHER } from './keys';
import { P, byte, bytes, content, rollback, outFirst, outSetFirst, elem } from './out';

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
    if (c == 0x7b || c == 0x5b) { depth++; S.pos++; continue; }
    if (c == 0x7d || c == 0x5d) { depth--; S.pos++; if (depth == 0) return; continue; }
    if (c == 0x2c || c == 0x3a) { S.pos++; continue; }
    if (c == 0x22 || c == 0x5c) str();
    else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) num();
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
      if (c == 0x7b || c == 0x5b) {
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
        const closer: u8 = c == 0x7b ? 0x7d : 0x5d;
        if (load<u8>(S.pos) == closer) { state = 1; continue; }
        state = c == 0x7b ? 2 : 3;
        continue;
      }
      if (c == 0x22 || c == 0x5c) {
        str();
        if (S.se == S.ss && !keep) rollback(memberMark, memberFirst);
        else { byte(0x22); content(S.ss, S.se, S.sDecode); byte(0x22); if (S.se != S.ss) keptLeaf = true; }
      } else {
        const a = S.pos;
        if (c == 0x2d || (c >= 0x30 && c <= 0x39)) num(); else literal();
        if (c == 0x6e && !keep) rollback(memberMark, memberFirst);
        else { bytes(a, S.pos - a); if (c != 0x6e) keptLeaf = true; }
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
      if (c == 0x2c) { S.pos++; state = kind == 0x7b ? 2 : 3; continue; }
      // The container closes: take it back when nothing was kept inside.
      S.pos++;
      depth--;
      const parentFirst = load<u8>(t, 2) != 0;
      const keepMode = load<u8>(t, 3);
      if ((outFirst() && keepMode == 0) || (keepMode == 2 && !keptLeaf)) {
        rollback(<usize>load<u32>(t, 4), parentFirst);
      } else {
        byte(kind == 0x7b ? 0x7d : 0x5d);
        outSetFirst(false);
      }
      if (depth > 0) ctx = load<u8>(stack.ptr + <usize>(depth - 1) * 8, 1);
      continue;
    }
    if (state == 3) {
      memberMark = P;
      memberFirst = outFirst();
      elem();
      if (ctx != T_KEEP) ctx = T_OTHER;
      state = 0;
      continue;
    }
    // state 2: a key
    ws();
    str();
    const ks = S.ss, ke = S.se, kd = S.sDecode;
    ws();
    S.pos++; // ':'
    const r = ctx == T_KEEP || ctx == T_OTHER || kd ? -1 : lookup(ctx, ks, ke - ks, S.end);
    if (r == KDROP) {
      skipValue();
      state = 1;
      continue;
    }
    memberMark = P;
    memberFirst = outFirst();
    if (!memberFirst) byte(0x2c);
    outSetFirst(false);
    byte(0x22); content(ks, ke, kd); byte(0x22); byte(0x3a);
    if (ctx != T_KEEP) ctx = r >= KCTX ? <u8>(r - KCTX) : T_OTHER;
    state = 0;
  }
}
