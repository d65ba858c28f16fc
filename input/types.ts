// Contracts between the collector's modules. Data flows one way:
// DI API → di/client → collector → forward/client → Fluent Bit.

/**
 * One Directory Insights event as tests and cold code see it (what iterating a PageEvents yields): the exact JSON
 * bytes received plus what the collector needs to know. The page stays bytes from the HTTP body to the msgpack
 * encoder: decoding a 10,000-event page to a JS string would cost ~25 MB (UTF-16) per page, and every event sliced
 * from it would keep it alive until acked.
 */
export interface RawEvent {
  /** `id` of the event (24-hex ObjectId or UUID); a string of its own, not a slice of the page. */
  readonly id: string;
  /** `timestamp` exactly as received (RFC 3339, 0-9 fraction digits). */
  readonly timestamp: string;
  /**
   * The event's JSON, UTF-8, byte for byte as it stood in the API's answer: a view into the page's buffer (no
   * copy), so it keeps the page alive as long as it is referenced. Decode only off the hot path.
   */
  readonly raw: Uint8Array;
}

/**
 * The events of one page, columnar: offsets into the page's bytes instead of an object (plus an id string, a
 * timestamp string and a view) per event. Objects that live while a page waits for its encoding and its acks
 * survive two scavenges and fill the old generation with garbage; a few typed arrays per page do not. The hot
 * path reads by index; iterating yields RawEvent objects (tests, cold code).
 */
export interface PageEvents extends Iterable<RawEvent> {
  readonly length: number;
  /** The page's UTF-8 bytes; every offset below points into it. */
  readonly body: Buffer;
  /** Byte span of event i's JSON object: [start[i], end[i]). */
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  /** Byte span of event i's `id` string token, quotes included: [idStart[i], idEnd[i]). */
  readonly idStart: Uint32Array;
  readonly idEnd: Uint32Array;
  /** Byte span of event i's `timestamp` string token, quotes included. */
  readonly tsStart: Uint32Array;
  readonly tsEnd: Uint32Array;
  /**
   * Byte span of event i's top-level `organization` string token, quotes included; empty (start = end) when the
   * event has none (or it is not a string).
   */
  readonly orgStart: Uint32Array;
  readonly orgEnd: Uint32Array;
  /**
   * Per event: bit 1 when the id token, bit 2 when the timestamp token, bit 4 when the organization token holds a
   * backslash escape (then decode it as JSON).
   */
  readonly escapes: Uint8Array;
  /** The event's `id`, decoded (a string of its own, not a slice of the page). */
  id(i: number): string;
  /** The event's `timestamp`, decoded, exactly as received. */
  timestamp(i: number): string;
  /** The event's top-level `organization` (the org it belongs to), or undefined when it has none. */
  organization(i: number): string | undefined;
  /** The event's JSON bytes: a view into `body` (keeps the page alive while referenced). */
  raw(i: number): Uint8Array;
}

/** The time of an event with nanoseconds, as Fluent Bit's EventTime carries it. */
export interface EventTime {
  readonly sec: number;
  readonly nsec: number;
}

/**
 * A query of some orgs (or of a provider's Multi-Tenant Portal) and one service over a time window. Bounds are RFC
 * 3339 UTC strings.
 */
export interface DiQuery {
  readonly service: string;
  /** More services in the same query (`service: [service, ...alsoServices]`): `all` plus the ones it misses. */
  readonly alsoServices?: readonly string[];
  readonly start: string;
  readonly end: string;
  /** Each sent as an `x-org-id` header (the header repeated): the API answers the events of all of them. */
  readonly orgIds?: readonly string[];
  /** Sent as `x-provider-id` (alone, without x-org-id): the provider's Multi-Tenant-Portal events. */
  readonly providerId?: string;
  /** Sent as `search_term` when set: a filter within the window (the API's operator form). */
  readonly searchTerm?: SearchTerm;
}

/** The API's `search_term` (di-openapi.yaml SearchTerm): one conjunction over criteria. */
export type SearchTerm =
  | { readonly and: readonly SearchCriterion[] }
  | { readonly or: readonly SearchCriterion[] }
  | { readonly not: readonly SearchCriterion[] };
export type SearchCriterion =
  SearchTerm | { readonly field: string; readonly operator: string; readonly value: unknown };

export interface DistinctBucket {
  readonly key: string;
  readonly count: number;
}

export interface DiPage {
  /** The page's events in order (columnar: see PageEvents). */
  readonly events: PageEvents;
  /** `X-Search_after` of this answer, verbatim. */
  readonly searchAfter?: string;
  readonly resultCount: number;
  readonly limit: number;
  /**
   * Optional, for both sides: the consumer calls it once nothing reads this page's events (their bytes) any
   * more — for the collector, when every send of them has settled — so the client may reuse the page's buffer for
   * a later page. Calling it earlier corrupts those bytes; never calling it only costs memory. Idempotent.
   */
  readonly release?: () => void;
}

export interface DiInterval {
  readonly unit: 's' | 'm' | 'h' | 'd' | 'w';
  readonly value: number;
}

export interface DiBucket {
  readonly key: number;
  readonly count: number;
}

export interface DiClient {
  /** Every page of the query, in order; retries transient faults itself, throws DiFatalError on 400/401/402/403. */
  pages(query: DiQuery, signal?: AbortSignal): AsyncIterable<DiPage>;
  /** `/events/count` for the same query. */
  count(query: DiQuery, signal?: AbortSignal): Promise<number>;
  /** `/events/distinct`: each value of `field` among the query's events with its count (optional: services.ts). */
  distinct?(query: DiQuery, field: string, signal?: AbortSignal): Promise<DistinctBucket[]>;
  /**
   * `/events/interval` for the same query: event counts per bucket of `interval` (whole seconds at least), each
   * `{key: bucket start (epoch ms), count}`, in time order; buckets without events may be left out.
   */
  interval?(query: DiQuery, interval: DiInterval, signal?: AbortSignal): Promise<DiBucket[]>;
  close(): Promise<void>;
}

export interface ForwardEntry {
  readonly time: EventTime;
  /** Values are encoded as @msgpack/msgpack would; a forward/Utf8Bytes value is a str given as its UTF-8 bytes. */
  readonly record: Readonly<Record<string, unknown>>;
}

/**
 * Entries in columnar form, as the collector sends them: entry i is `[EventTime(sec[i], nsec[i]), {"message": str}]`
 * where str is the UTF-8 bytes body[start[i]..end[i]) (valid UTF-8, written as a msgpack str). Encodes to the same
 * bytes as the ForwardEntry `{time, record: {message: new Utf8Bytes(raw)}}`, without an object per entry.
 */
export interface MessageBatch {
  readonly length: number;
  readonly body: Uint8Array;
  readonly start: Uint32Array;
  readonly end: Uint32Array;
  readonly sec: Uint32Array;
  readonly nsec: Uint32Array;
}

export interface SendOptions {
  /** Called once every entry is encoded into the client's own frames: the entries' bytes may be reused from then on. */
  readonly onEncoded?: () => void;
  /**
   * Called when Fluent Bit acked the chunk holding entries [from, to) of this send (`ackedAt`: Date.now() of the
   * ack). The chunk is not delivered yet: its ack must still settle (a threaded input acks from memory).
   */
  readonly onChunkAcked?: (from: number, to: number, ackedAt: number) => void;
  /** Called when the ack of the chunk holding entries [from, to) settled: those entries are delivered. */
  readonly onChunkSettled?: (from: number, to: number) => void;
  /**
   * Called just before the chunk holding entries [from, to) is written to a connection, and again before each
   * resend; `connection` numbers the client's connections from 1, `entryBytes` is the size of the entries' msgpack
   * (what Fluent Bit's input counts in its bytes). Whatever it records survives a kill -9 that follows the write
   * (it returns first).
   */
  readonly onChunkWritten?: (from: number, to: number, connection: number, entryBytes: number) => void;
}

export interface ForwardClient {
  /**
   * Sends the entries under `tag` as one or more chunks and resolves once Fluent Bit acked all of them.
   * Resends across reconnects until acked; waits (backpressure) while in-flight chunks are at their bound.
   * Rejects when the client is closed or a fatal error (e.g. auth failure) happened, and — only for a client made
   * with settleResend 'caller' — with ForwardUnsettledError when the connection closed within the settle time of
   * an ack: then the caller must send those entries again.
   */
  send(tag: string, entries: readonly ForwardEntry[] | MessageBatch, opts?: SendOptions): Promise<void>;
  /** Waits for in-flight chunks up to `timeoutMs`, then closes. Resolves true when everything was acked. */
  close(timeoutMs?: number): Promise<boolean>;
}

/** Structured logger (pino-compatible subset). Secrets never go into its arguments. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Hooks the network clients call so metrics stay out of their code. All optional. */
export interface DiHooks {
  onRetry?(info: { reason: string; status?: number; delayMs: number; query: DiQuery }): void;
  onApiError?(info: { status: number; query: DiQuery }): void;
  onPage?(info: { events: number; query: DiQuery }): void;
  /** A request goes out now: it had its turn in the request budget. */
  onRequest?(info: { path: string; query: DiQuery }): void;
}

export interface ForwardHooks {
  onAck?(info: { chunk: string; entries: number }): void;
  /** `reason` 'unresolved': the last attempt failed because the host name did not resolve. */
  onReconnect?(info: { attempt: number; delayMs: number; error?: string; reason?: 'unresolved' }): void;
}

/** Where time comes from: the wall clock, or a shared accelerated clock in tests and the demo (see clock.ts). */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` of this clock's time (or earlier when the signal aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type DiAuth =
  | { readonly kind: 'apiKey'; readonly apiKey: string }
  | { readonly kind: 'oauth'; readonly clientId: string; readonly clientSecret: string; readonly tokenUrl: string };

export type ForwardTarget =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** The validated configuration of one collector process (config.ts builds it from flags, env and file). */
export interface CollectorConfig {
  /** Base URL up to `/insights/directory/v1`, no trailing slash. */
  readonly apiUrl: string;
  readonly auth: DiAuth;
  /** Org ids sent as `x-org-id` (several per query: orgBatchSize); empty: one stream per service without it. */
  readonly orgIds: readonly string[];
  /** Service names as the API spells them; default ['all']. Never whitelisted. */
  readonly services: readonly string[];
  /** With services ['all']: time between checks of which services `all` misses (0: never; default 1 h). */
  readonly servicesCheckMs?: number;
  readonly pageLimit: number; // 10000
  readonly requestTimeoutMs: number;
  readonly forward: ForwardTarget;
  /** An ack counts once it has stood this long on an open connection (forward client settleMs). */
  readonly ackSettleMs: number;
  /**
   * Fluent Bit's built-in HTTP server (--fluent-bit-http): its uptime tells, after a restart of the collector,
   * whether events acked within the settle time before the stop were stored (no restart of Fluent Bit since).
   */
  readonly fluentBitHttp?: {
    readonly host: string;
    readonly port: number;
    /**
     * --fluent-bit-http auto: the shipped address, not named by the user; used only when a Fluent Bit there lists
     * fluentBitInput (collector/oracle/probe.ts), otherwise said once and run without.
     */
    readonly auto?: boolean;
  };
  /** With fluentBitHttp: the forward input (its name or Alias in /api/v1/metrics) dedicated to the collector. */
  readonly fluentBitInput?: string;
  /**
   * With `once`: give up when Fluent Bit has acked nothing for this long while events wait (exit 1, checkpoint
   * where acks reached). Unset or 0: wait forever. Optional for backward compatibility; the CLI sets it (5 min).
   */
  readonly deliveryTimeoutMs?: number;
  readonly tls?: {
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
    readonly verify: boolean;
    readonly servername?: string;
  };
  readonly sharedKey?: string;
  readonly username?: string;
  readonly password?: string;
  /** Tag template: `{service}` and `{org}` are replaced; default `jumpcloud.{service}`. */
  readonly tag: string;
  readonly stateDir: string;
  /** First start: collect from this instant (epoch ms), computed from --since. */
  readonly sinceMs: number;
  /** --since was set (flag, env or config file) rather than defaulted: a resumed stream says that it ignores it. */
  readonly sinceGiven?: boolean;
  readonly lagMs: number;
  readonly overlapMs: number;
  readonly intervalMs: number;
  readonly once: boolean;
  /** Parallel time slices for a backfill. */
  readonly backfillSlices: number;
  /** Bound on remembered ids per stream. */
  readonly maxSeenIds: number;
  readonly metrics?: { readonly host: string; readonly port: number };
  /**
   * Requests per second to the DI API, shared fairly by every stream (--max-requests-per-second); 0 or unset: no limit.
   */
  readonly maxRequestsPerSecond?: number;
  /** Collect only the orgs of `orgIds` in this shard (--shard K/N; input/shard.ts). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Orgs per query (--org-batch-size): the orgs of a service are polled in batches of this many. Default 100. */
  readonly orgBatchSize?: number;
  /** --provider-id: one more stream, the provider's Multi-Tenant-Portal events (x-provider-id). */
  readonly providerId?: string;
}
