// Bodies rendered once per (service, stream kind) and shared by every org: an event's 32-bit variant picks its
// type by the catalog's weights (the high 16 bits, through a 65,536-slot table) and one of that type's bodies (the
// low bits). Bodies are kept as UTF-8 bytes, all of a pool in one buffer, with the org's and the provider's ids
// as 24-byte holes at known offsets: a page costs one copy per event and the ids written over its holes, and
// 5,000 orgs cost no more body memory than one.
import { streamEntries, type CatalogEntry } from './catalog.js';
import { hash32, hashString } from './random.js';
import { findHoles, isProviderActivity, renderBody } from './render.js';

/** Distinct bodies per service, shared out by weight (each type gets at least MIN_BODIES). */
export const POOL_SIZE = 512;
const MIN_BODIES = 2;
const SLOTS = 65_536;
/** Share of admin actions in an org done by an admin of its provider, when the simulator has providers. */
const PROVIDER_ADMIN_SHARE = 0.05;

export type Hole = 'org' | 'provider';

export interface PoolBody {
  readonly entry: CatalogEntry;
  /** The event's JSON up to its id: `{…,` with placeholders in the holes. */
  readonly bytes: Buffer;
  readonly holes: readonly Hole[];
  /** Byte offset of each hole in `bytes`. */
  readonly holeAt: readonly number[];
  /** Done by a provider's admin (exclude_provider_activity leaves it out). */
  readonly providerActivity: boolean;
}

export interface PoolOptions {
  readonly seed: number;
  readonly service: string;
  readonly stream: 'org' | 'provider';
  /** The simulator has providers: some admin actions in orgs are theirs. */
  readonly withProviders: boolean;
}

interface Rendered extends Omit<PoolBody, 'bytes'> {
  readonly text: string;
}

export class BodyPool {
  readonly bodies: readonly PoolBody[];
  /** Per catalog type of the stream: its first body and body count. */
  private readonly first: number[] = [];
  private readonly count: number[] = [];
  private readonly slots = new Uint16Array(SLOTS);

  constructor(readonly opts: PoolOptions) {
    const entries = streamEntries(opts.service, opts.stream);
    if (entries.length === 0) throw new Error(`no event type of service "${opts.service}" on ${opts.stream} streams`);
    const weights = entries.map((e) => (opts.stream === 'org' ? e.weight : e.providerWeight));
    const total = weights.reduce((a, b) => a + b, 0);
    const rendered: Rendered[] = [];
    entries.forEach((entry, t) => {
      this.first.push(rendered.length);
      const n = Math.max(MIN_BODIES, Math.round((POOL_SIZE * weights[t]!) / total));
      for (let k = 0; k < n; k++) rendered.push(this.render(entry, t, k));
      this.count.push(n);
    });
    this.bodies = slab(rendered);
    this.fillSlots(weights, total);
  }

  /** The body of an event with this variant. */
  body(variant: number): PoolBody {
    const t = this.slots[variant >>> 16]!;
    return this.bodies[this.first[t]! + ((variant & 0xffff) % this.count[t]!)]!;
  }

  /** Slots per type in proportion to weight, at least one each, so every type of the catalog is served. */
  private fillSlots(weights: readonly number[], total: number): void {
    const n = weights.map((w) => Math.max(1, Math.floor((SLOTS * w) / total)));
    const biggest = n.indexOf(Math.max(...n));
    n[biggest] = n[biggest]! - (n.reduce((a, b) => a + b, 0) - SLOTS);
    let at = 0;
    n.forEach((c, t) => {
      this.slots.fill(t, at, at + c);
      at += c;
    });
  }

  private render(entry: CatalogEntry, t: number, k: number): Rendered {
    const { seed, service, stream, withProviders } = this.opts;
    const s = hash32(seed, hashString(service), stream === 'org' ? 1 : 2, t, k);
    const byProvider =
      stream === 'org' && withProviders && canBeProviderAdmin(entry) && (s % 1000) / 1000 < PROVIDER_ADMIN_SHARE;
    const body = renderBody(entry, s, { stream, byProvider });
    const text = `${JSON.stringify(body).slice(0, -1)},`;
    const { kinds, offsets } = findHoles(text);
    const providerActivity = stream === 'provider' || isProviderActivity(body);
    return { entry, text, holes: kinds, holeAt: offsets, providerActivity };
  }
}

/** The bodies' bytes in one buffer, in pool order: a page's copies read from one block of memory. */
function slab(rendered: readonly Rendered[]): PoolBody[] {
  const all = Buffer.from(rendered.map((b) => b.text).join(''), 'utf8');
  let pos = 0;
  return rendered.map(({ text, ...b }) => {
    const n = Buffer.byteLength(text, 'utf8');
    pos += n;
    return { ...b, bytes: all.subarray(pos - n, pos) };
  });
}

/** Types an admin does in the org's console: a provider's admin can do them too. */
function canBeProviderAdmin(e: CatalogEntry): boolean {
  if (e.service !== 'directory') return false;
  return e.type === 'admin_login_attempt' || ['object_change', 'association', 'command'].includes(e.family);
}
