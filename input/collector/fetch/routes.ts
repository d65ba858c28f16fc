// The orgs one query of a stream serves, and where each of its events goes. A stream reads a batch of orgs of one
// service with one request (`x-org-id` repeated) and hands each event to its org's delivery state (its SeenIds and
// journal) by the event's top-level `organization`. A query of one org (or of none: a single-org API key; or of a
// provider's Multi-Tenant Portal) has one route, which takes every event whatever its `organization` says.
// The questions the fetch layer asks of "the stream's ids" (known ids per bucket, ids in ranges, the eviction
// bound) are answered over every org of the query, since the API's counts are over all of them.
import { JumpCloudError } from '../../errors.js';
import type { DiQuery, PageEvents, SearchTerm } from '../../types.js';
import type { SeenIds } from '../delivery/index.js';
import { isoMillis } from '../state/timestamp.js';

/** One org of a query: its delivery state and the tag of its records. */
export interface OrgRoute {
  /** The org id ('' without x-org-id; for a provider's portal, its stream's key). */
  readonly org: string;
  readonly seen: SeenIds;
  readonly tag: string;
}

export class Routes {
  /** Org id → index in `orgs`, for queries of several orgs. */
  private readonly index: ReadonlyMap<string, number> | undefined;

  constructor(
    readonly service: string,
    readonly orgs: readonly OrgRoute[],
    /** Set for a provider's Multi-Tenant-Portal stream: queried with x-provider-id instead of x-org-id. */
    readonly provider?: string,
  ) {
    if (orgs.length === 0) throw new RangeError('a query serves one org at least');
    this.index = orgs.length > 1 ? new Map(orgs.map((r, i) => [r.org.toLowerCase(), i])) : undefined;
  }

  /** How logs name the stream: its org, or the first org and how many (`orgs`). */
  get labels(): { readonly org: string; readonly service: string; readonly orgs?: number } {
    const first = this.orgs[0]!.org;
    return this.orgs.length === 1
      ? { org: first, service: this.service }
      : { org: `${first}+${this.orgs.length - 1}`, service: this.service, orgs: this.orgs.length };
  }

  /** The query of [start, end) for these orgs (x-org-id each), or for the provider (x-provider-id). */
  query(start: number, end: number, searchTerm?: SearchTerm): DiQuery {
    const orgIds = this.provider === undefined ? this.orgs.map((r) => r.org).filter((o) => o !== '') : [];
    return {
      service: this.service,
      start: isoMillis(start),
      end: isoMillis(end),
      ...(orgIds.length > 0 ? { orgIds } : {}),
      ...(this.provider !== undefined ? { providerId: this.provider } : {}),
      ...(searchTerm !== undefined ? { searchTerm } : {}),
    };
  }

  /**
   * Index of the route of event i; -1 when the query serves several orgs and the event's `organization` is none of
   * them (or missing). Org ids are compared without case (hex ids are case-insensitive).
   */
  routeOf(events: PageEvents, i: number): number {
    const index = this.index;
    if (index === undefined) return 0;
    const org = events.organization(i);
    return org === undefined ? -1 : (index.get(org) ?? index.get(org.toLowerCase()) ?? -1);
  }

  /** Ids known (in flight or delivered) per bucket, over every org: what the API's counts are compared with. */
  countByBucket(origin: number, width: number, buckets: number, from: number, to: number): Uint32Array {
    const [first, ...rest] = this.orgs;
    const out = first!.seen.countByBucket(origin, width, buckets, from, to);
    for (const r of rest) {
      const c = r.seen.countByBucket(origin, width, buckets, from, to);
      for (let i = 0; i < buckets; i++) out[i] = out[i]! + c[i]!;
    }
    return out;
  }

  /** The known ids in `ranges` over every org: at most `max` + 1 (more than `max` says "too many"). */
  idsIn(ranges: readonly { readonly from: number; readonly to: number }[], max: number): string[] {
    const out: string[] = [];
    for (const r of this.orgs) {
      for (const id of r.seen.idsIn(ranges, max - out.length)) out.push(id);
      if (out.length > max) break;
    }
    return out;
  }

  /** The latest time up to which some org's ids were evicted (maxSeenIds): a re-fetch there could repeat. */
  get evictedUpTo(): number {
    let at = -Infinity;
    for (const r of this.orgs) at = Math.max(at, r.seen.evictedUpTo);
    return at;
  }

  /** The most ids one org holds (a backfill compacts when one grows large). */
  get largest(): number {
    let n = 0;
    for (const r of this.orgs) n = Math.max(n, r.seen.size);
    return n;
  }

  /** Drops, in every org, the ids `keep` refuses (by event time). */
  async compact(keep: (ts: number) => boolean): Promise<void> {
    for (const r of this.orgs) await r.seen.compact(keep);
  }

  /** Calls `fn` with each org id (per-org metrics of a poll or a window of the whole query). */
  each(fn: (org: string) => void): void {
    for (const r of this.orgs) fn(r.org);
  }
}

/**
 * A page of a query of several orgs held an event whose `organization` is none of them (or missing): whose it is
 * cannot be told from one query. Nothing of it was forwarded; the stream queries those orgs in smaller batches.
 */
export class UnroutedEventError extends JumpCloudError {
  static override readonly code: string = 'EVENT_ORG_UNKNOWN';

  constructor(
    readonly id: string,
    readonly organization: string | undefined,
    orgs: number,
  ) {
    const said = organization === undefined ? 'no "organization"' : `"organization": ${JSON.stringify(organization)}`;
    super(
      `event ${id} of a query of ${orgs} orgs has ${said}, none of them: it is not forwarded from this query; the ` +
        'orgs are queried in smaller batches, down to one org each, to tell whose it is',
    );
  }
}
