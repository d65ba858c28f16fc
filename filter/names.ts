// Output names are written by their text at the call site (`open('host')`, `copy('name', f)`): each string
// literal becomes its UTF-8 bytes and member form (`,"name":`) on first use and is found again by the
// literal's address. Where the literal is known (every call site), the slot index folds to a constant, so a
// name costs a load and a compare, as a named constant would.
import { Lit } from './mem';

// Literals sit 16-byte aligned in static memory: 2048 slots cover 32 KiB of it without sharing a slot.
const SLOTS: usize = 2048;
const slotKey = new StaticArray<usize>(<i32>SLOTS);
const slotLit = new StaticArray<Lit | null>(<i32>SLOTS);

@inline export function nameOf(s: string): Lit {
  const p = changetype<usize>(s);
  const h = <i32>((p >> 4) & (SLOTS - 1));
  if (unchecked(slotKey[h]) == p) return changetype<Lit>(unchecked(slotLit[h]));
  return intern(s);
}

/** First use of a literal, or one whose slot another took (then it is looked up past it every time). */
function intern(s: string): Lit {
  const p = changetype<usize>(s);
  let h = <i32>((p >> 4) & (SLOTS - 1));
  while (true) {
    const k = unchecked(slotKey[h]);
    if (k == p) return changetype<Lit>(unchecked(slotLit[h]));
    if (k == 0) break;
    h = (h + 1) & <i32>(SLOTS - 1);
  }
  const l = new Lit(s);
  unchecked(slotKey[h] = p);
  unchecked(slotLit[h] = l);
  return l;
}
