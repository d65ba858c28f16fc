// Seeded randomness for the simulator: every generated value derives from (seed, stream, bucket, variant), so the
// same seed always yields the same events and nothing has to be stored.

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes numbers into one 32-bit seed. */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(p / 4294967296), 0x5bd1e995);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The low `width` hex digits of a 32-bit value, zero-padded. */
export function hex(n: number, width: number): string {
  return (n >>> 0)
    .toString(16)
    .padStart(8, '0')
    .slice(8 - width);
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** An integer in [lo, hi]. */
export const between = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** A 24-hex ObjectId-looking value (referenced objects, not event ids). */
export function objectId(r: Rng): string {
  return hex(0x60000000 + Math.floor(r() * 0x08000000), 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8);
}

/** An upper-case UUID, as RADIUS event ids are. */
export function upperUuid(r: Rng): string {
  const h = hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

/** A lower-case UUID (request ids, command ids). */
export function uuid(r: Rng): string {
  return upperUuid(r).toLowerCase();
}
