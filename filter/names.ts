// Output names are written by their text at the call site (`open('host')`, `copy('name', f)`): each string
// literal becomes its UTF-8 bytes and member form (`,"name":`) on first use and is found again by the
// literal's address. The slots sit in static memory and the literal's address is known at every call site,
// so finding a name folds to one load and one compare against constants.
import { Lit } from './mem';

// Literals sit 16-byte aligned in static memory: 2048 slots cover 32 KiB of it without sharing a slot.
const SLOTS: usize = 2048;
// A slot: the literal's address, then the Lit's fields (ptr, len, kptr, klen): the slot + 4 is the Lit.
const SLOT: usize = 4 + offsetof<Lit>();
const slots = memory.data(<i32>(SLOTS * SLOT), 16);

@inline export function nameOf(s: string): Lit {
  const p = changetype<usize>(s);
  const slot = slots + ((p >> 4) & (SLOTS - 1)) * SLOT;
  if (load<usize>(slot) == p) return changetype<Lit>(slot + 4);
  return intern(s);
}

/** First use of a literal, or one whose slot another took (then it is looked up past it every time). */
function intern(s: string): Lit {
  const p = changetype<usize>(s);
  let h = (p >> 4) & (SLOTS - 1);
  while (true) {
    const slot = slots + h * SLOT;
    const k = load<usize>(slot);
    if (k == p) return changetype<Lit>(slot + 4);
    if (k == 0) {
      const l = new Lit(s);
      store<usize>(slot, p);
      memory.copy(slot + 4, changetype<usize>(l), offsetof<Lit>());
      return changetype<Lit>(slot + 4);
    }
    h = (h + 1) & (SLOTS - 1);
  }
}
