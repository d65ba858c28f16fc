// The events of one page as offsets into its bytes (see PageEvents in types.ts): eight numbers per event in typed
// arrays instead of four objects, so a page waiting for its encoding or its acks holds nothing the GC must walk or
// promote. Strings are decoded on demand and die with the loop iteration that asked for them.
import type { PageEvents, RawEvent } from '../types.js';

/** PageEvents.escapes bits. */
export const ESCAPED_ID = 1;
export const ESCAPED_TIMESTAMP = 2;
export const ESCAPED_ORG = 4;

/** Offsets per event in the shared Uint32Array (start, end, idStart, idEnd, tsStart, tsEnd, orgStart, orgEnd). */
export const FIELDS = 8;

export class ColumnarPageEvents implements PageEvents {
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  readonly idStart: Uint32Array;
  readonly idEnd: Uint32Array;
  readonly tsStart: Uint32Array;
  readonly tsEnd: Uint32Array;
  readonly orgStart: Uint32Array;
  readonly orgEnd: Uint32Array;
  readonly escapes: Uint8Array;

  /**
   * `offsets` holds the events' spans interleaved (FIELDS numbers per event) and `escapes` one flag byte per
   * event, as the splitter collects them; both are copied into arrays of exactly `length` events.
   */
  constructor(
    readonly body: Buffer,
    readonly length: number,
    offsets: Uint32Array,
    escapes: Uint8Array,
  ) {
    // One allocation for all eight columns.
    const cols = new Uint32Array(FIELDS * length);
    this.start = cols.subarray(0, length);
    this.end = cols.subarray(length, 2 * length);
    this.idStart = cols.subarray(2 * length, 3 * length);
    this.idEnd = cols.subarray(3 * length, 4 * length);
    this.tsStart = cols.subarray(4 * length, 5 * length);
    this.tsEnd = cols.subarray(5 * length, 6 * length);
    this.orgStart = cols.subarray(6 * length, 7 * length);
    this.orgEnd = cols.subarray(7 * length, 8 * length);
    for (let i = 0, o = 0; i < length; i++, o += FIELDS) {
      this.start[i] = offsets[o]!;
      this.end[i] = offsets[o + 1]!;
      this.idStart[i] = offsets[o + 2]!;
      this.idEnd[i] = offsets[o + 3]!;
      this.tsStart[i] = offsets[o + 4]!;
      this.tsEnd[i] = offsets[o + 5]!;
      this.orgStart[i] = offsets[o + 6]!;
      this.orgEnd[i] = offsets[o + 7]!;
    }
    this.escapes = escapes.slice(0, length);
  }

  id(i: number): string {
    return this.token(this.idStart[i]!, this.idEnd[i]!, (this.escapes[i]! & ESCAPED_ID) !== 0);
  }

  timestamp(i: number): string {
    return this.token(this.tsStart[i]!, this.tsEnd[i]!, (this.escapes[i]! & ESCAPED_TIMESTAMP) !== 0);
  }

  organization(i: number): string | undefined {
    const from = this.orgStart[i]!,
      to = this.orgEnd[i]!;
    return to > from ? this.token(from, to, (this.escapes[i]! & ESCAPED_ORG) !== 0) : undefined;
  }

  raw(i: number): Uint8Array {
    return this.body.subarray(this.start[i]!, this.end[i]!);
  }

  *[Symbol.iterator](): Iterator<RawEvent> {
    for (let i = 0; i < this.length; i++) yield { id: this.id(i), timestamp: this.timestamp(i), raw: this.raw(i) };
  }

  /** A string token [from, to) of the body, quotes included; JSON-decoded when it holds an escape. */
  private token(from: number, to: number, escaped: boolean): string {
    return escaped
      ? (JSON.parse(this.body.toString('utf8', from, to)) as string)
      : this.body.toString('utf8', from + 1, to - 1);
  }
}

/** Collects the spans of a page's events while the splitter scans it (grown by doubling; reused across pages). */
export class PageEventsBuilder {
  private offsets: Uint32Array;
  private flags: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.offsets = new Uint32Array(FIELDS * capacity);
    this.flags = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
  }

  add(
    start: number,
    end: number,
    idStart: number,
    idEnd: number,
    tsStart: number,
    tsEnd: number,
    escapes: number,
    orgStart = 0,
    orgEnd = 0,
  ): void {
    const n = this.length;
    if (n === this.flags.length) this.grow();
    const o = n * FIELDS;
    const a = this.offsets;
    a[o] = start;
    a[o + 1] = end;
    a[o + 2] = idStart;
    a[o + 3] = idEnd;
    a[o + 4] = tsStart;
    a[o + 5] = tsEnd;
    a[o + 6] = orgStart;
    a[o + 7] = orgEnd;
    this.flags[n] = escapes;
    this.length = n + 1;
  }

  /** The page's events, in arrays of their own (the builder may be reused right away). */
  finish(body: Buffer): ColumnarPageEvents {
    return new ColumnarPageEvents(body, this.length, this.offsets, this.flags);
  }

  private grow(): void {
    const offsets = new Uint32Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const flags = new Uint8Array(this.flags.length * 2);
    flags.set(this.flags);
    this.flags = flags;
  }
}

/**
 * PageEvents over events given as objects (tests and fakes): their `raw` bytes concatenated into one body, as a page
 * holds them, with the id, timestamp and organization tokens written as JSON strings after each event (outside its
 * span; the body is not one JSON document, which nothing reading PageEvents requires). The organization is the
 * given one, else the raw JSON's top-level string `organization`, if any.
 */
export function pageEventsOf(
  events: Iterable<{
    readonly id: string;
    readonly timestamp: string;
    readonly raw: Uint8Array;
    readonly organization?: string;
  }>,
): ColumnarPageEvents {
  const parts: Buffer[] = [];
  const b = new PageEventsBuilder(16);
  let at = 0;
  const push = (bytes: Uint8Array): number => {
    parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const from = at;
    at += bytes.byteLength;
    return from;
  };
  for (const e of events) {
    const start = push(e.raw);
    const end = at;
    const idToken = JSON.stringify(e.id);
    const idStart = push(Buffer.from(idToken, 'utf8'));
    const idEnd = at;
    const tsToken = JSON.stringify(e.timestamp);
    const tsStart = push(Buffer.from(tsToken, 'utf8'));
    const tsEnd = at;
    const org = e.organization ?? organizationOf(e.raw);
    const orgToken = org === undefined ? undefined : JSON.stringify(org);
    const orgStart = orgToken === undefined ? 0 : push(Buffer.from(orgToken, 'utf8'));
    const orgEnd = orgToken === undefined ? 0 : at;
    const escapes =
      (idToken.includes('\\') ? ESCAPED_ID : 0) |
      (tsToken.includes('\\') ? ESCAPED_TIMESTAMP : 0) |
      (orgToken?.includes('\\') ? ESCAPED_ORG : 0);
    b.add(start, end, idStart, idEnd, tsStart, tsEnd, escapes, orgStart, orgEnd);
  }
  return b.finish(Buffer.concat(parts, at));
}

/** The top-level string `organization` of an event's JSON bytes, if they parse and hold one. */
function organizationOf(raw: Uint8Array): string | undefined {
  try {
    const o = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as unknown;
    const org = (o as { organization?: unknown } | null)?.organization;
    return typeof org === 'string' ? org : undefined;
  } catch {
    return undefined;
  }
}
