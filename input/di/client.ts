// The Directory Insights API client: pages through `/events` with search_after, counts with `/events/count`,
// retries transient faults (Retry-After, backoff with jitter) and refuses with a DiFatalError that says what
// to fix when the API will not serve the query. Page bodies are split without re-serialising (page-split.ts).
import { isUtf8 } from 'node:buffer';
import { Agent, request, type Dispatcher } from 'undici';
import { systemClock } from '../clock.js';
import type {
  Clock,
  DiAuth,
  DiBucket,
  DiClient,
  DiHooks,
  DiInterval,
  DiPage,
  DiQuery,
  DistinctBucket,
  Logger,
  PageEvents,
} from '../types.js';
import { createAuthProvider, type AuthProvider } from './auth.js';
import { DiBadPageError, DiBodyLengthError, DiFatalError, DiQueryError, DiTransientError } from './errors.js';
import { isRetryableStatus, networkFault, statusFault } from './http-faults.js';
import { ByteBudget, type Reservation } from './byte-budget.js';
import { PageBufferPool } from './page-buffers.js';
import { RequestBudget } from './request-budget.js';
import { splitJsonArray } from './page-split.js';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, withRetries, type RetryPolicy } from './retry.js';
import { normalizeApiUrl } from './regions.js';
import { compareInstants, parseRfc3339 } from './rfc3339.js';

const MAX_PAGE_LIMIT = 10_000;

export interface DiClientOptions {
  /** Base URL up to `/insights/directory/v1`. */
  readonly apiUrl: string;
  readonly auth: DiAuth;
  /** Events per page, 1..10000; default 10000. */
  readonly pageLimit?: number;
  /** Real-time limit for the answer's headers and for each pause in its body; default 60 s. */
  readonly requestTimeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly hooks?: DiHooks;
  readonly logger?: Logger;
  /** Time for Retry-After, backoff sleeps and token expiry. */
  readonly clock?: Clock;
  /** Parallel connections per origin (parallel backfill slices share them); default 16. */
  readonly connections?: number;
  /** Source of jitter; tests pass a seeded one. */
  readonly random?: () => number;
  /**
   * Request the next page while the caller works on the current one (default true). Hides the API's latency;
   * costs one more page in memory per running pages() (about 15-30 MB at 10,000 events).
   */
  readonly prefetch?: boolean;
  /**
   * Requests per second to the API, shared by every stream (round-robin over the queries: a batch of orgs ×
   * service); 0 or unset: no limit. A 429 pauses every request either way (Retry-After when sent).
   */
  readonly maxRequestsPerSecond?: number;
  /**
   * Bytes of page bodies held at once, over every stream and slice (default 32 MiB: two 10,000-event pages): a page
   * request waits
   * until its expected size fits, and the page counts until its consumer releases it (or asks for the next).
   */
  readonly pageBudgetBytes?: number;
}

/** Page bytes per event assumed before any page was seen (a 10,000-event page is ~13 MB). */
const BYTES_PER_EVENT_GUESS = 1_300;
export const DEFAULT_PAGE_BUDGET_BYTES = 32 * 1024 * 1024;

interface PageRequest {
  readonly searchAfter?: unknown;
}

export function createDiClient(opts: DiClientOptions): DiClient {
  return new UndiciDiClient(opts);
}

class UndiciDiClient implements DiClient {
  private readonly base: string;
  private readonly limit: number;
  private readonly agent: Agent;
  private readonly auth: AuthProvider;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly hooks: DiHooks;
  private readonly logger?: Logger;
  /** Page bodies are read into these and reused once the consumer releases the page. */
  // Two free buffers: the page budget holds about two full pages at a time (a free one is 14 MB of RSS).
  private readonly buffers = new PageBufferPool({ maxFree: 2 });
  private readonly requests: RequestBudget;
  private readonly pageMemory: ByteBudget;
  /** Size of each stream's last page body: what its next page request reserves. */
  private readonly lastPageBytes = new Map<string, number>();

  constructor(private readonly opts: DiClientOptions) {
    this.base = normalizeApiUrl(opts.apiUrl);
    const limit = opts.pageLimit ?? MAX_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new RangeError(
        `page limit ${limit} is out of range: the DI API serves 1 to ${MAX_PAGE_LIMIT} events per page`,
      );
    }
    this.limit = limit;
    const timeout = opts.requestTimeoutMs ?? 60_000;
    this.agent = new Agent({
      connections: opts.connections ?? 16,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connectTimeout: Math.min(timeout, 30_000),
    });
    this.clock = opts.clock ?? systemClock;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.hooks = opts.hooks ?? {};
    this.logger = opts.logger;
    this.auth = createAuthProvider(opts.auth, { dispatcher: this.agent, clock: this.clock, logger: opts.logger });
    this.requests = new RequestBudget(opts.maxRequestsPerSecond ?? 0, this.clock);
    this.pageMemory = new ByteBudget(opts.pageBudgetBytes ?? DEFAULT_PAGE_BUDGET_BYTES);
  }

  /** Page bytes held now and at most so far, and requests waiting for their turn (for tests and diagnostics). */
  budgets(): { pageBytes: number; peakPageBytes: number; requestsWaiting: number } {
    return {
      pageBytes: this.pageMemory.held,
      peakPageBytes: this.pageMemory.peak,
      requestsWaiting: this.requests.waiting,
    };
  }

  async *pages(query: DiQuery, signal?: AbortSignal): AsyncIterable<DiPage> {
    this.checkQuery(query);
    // The next page is requested as soon as this one is parsed, so the API's latency overlaps the caller's
    // work on this page. Its own controller stops it when the caller stops early.
    // AbortSignal.any keeps no listener on the caller's signal, which many streams and slices may share.
    const ahead = new AbortController();
    const stop = signal ? AbortSignal.any([signal, ahead.signal]) : ahead.signal;
    const fetchAt = (searchAfter: unknown): Promise<DiPage> => {
      const p = this.retrying(query, stop, (state) => this.fetchPage(query, { searchAfter }, stop, state));
      p.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from being an unhandled rejection
      return p;
    };
    let next: Promise<DiPage> | undefined = fetchAt(undefined);
    let previousCursor: string | undefined;
    /** The page in the caller's hands counts against the memory budget until it is released or the caller moves on. */
    let current: DiPage | undefined;
    try {
      while (next) {
        const page: DiPage = await next;
        next = undefined;
        current = page;
        this.hooks.onPage?.({ events: page.events.length, query });
        if (page.events.length > 0 && page.resultCount >= page.limit) {
          const cursor = page.searchAfter ?? fallbackCursor(page.events, this.logger, query);
          if (cursor === previousCursor) {
            // Asking again with the same cursor would loop forever; this is an API fault worth a loud error.
            throw new DiFatalError(
              `the DI API returned the same X-Search_after ${cursor} twice for ${describe(query)}: paging cannot ` +
                `advance`,
            );
          }
          previousCursor = cursor;
          if (this.opts.prefetch === false) {
            yield page;
            budgetOf(page)?.release();
            next = fetchAt(JSON.parse(cursor) as unknown);
            continue;
          }
          next = fetchAt(JSON.parse(cursor) as unknown);
        }
        yield page;
        budgetOf(page)?.release();
      }
    } finally {
      if (current) budgetOf(current)?.release();
      if (next) {
        ahead.abort(new Error('pages() was not consumed to the end'));
        // A prefetched page nobody will see: its buffer and its share of the budget go back.
        next.then(
          (p) => p.release?.(),
          () => {},
        );
      }
    }
  }

  async count(query: DiQuery, callerSignal?: AbortSignal): Promise<number> {
    this.checkQuery(query);
    return followingCaller(callerSignal, (signal) =>
      this.retrying(query, signal, async (state) => {
        const text = (await this.post('/events/count', query, countBody(query), signal, state)).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new DiTransientError(`/events/count answered 200 with a body that is not JSON`, 'bad_count');
        }
        const n = (parsed as { count?: unknown } | null)?.count;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
          throw new DiTransientError(`/events/count answered without a numeric "count"`, 'bad_count');
        }
        return n;
      }),
    );
  }

  async distinct(query: DiQuery, field: string, callerSignal?: AbortSignal): Promise<DistinctBucket[]> {
    this.checkQuery(query);
    const body = JSON.stringify({ service: queryServices(query), start_time: query.start, end_time: query.end, field });
    return followingCaller(callerSignal, (signal) =>
      this.retrying(query, signal, async (state) => {
        const text = (await this.post('/events/distinct', query, body, signal, state)).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new DiFatalError('/events/distinct answered 200 with a body that is not JSON');
        }
        const buckets = (parsed as { buckets?: unknown } | null)?.buckets;
        // Not retried: an API (or proxy) without this endpoint answers the same every time.
        if (!Array.isArray(buckets)) throw new DiFatalError('/events/distinct answered without "buckets"');
        return buckets
          .filter(
            (b): b is { key: string; doc_count: number } =>
              typeof b?.key === 'string' && Number.isInteger(b?.doc_count),
          )
          .map((b) => ({ key: b.key, count: b.doc_count }));
      }),
    );
  }

  async interval(query: DiQuery, interval: DiInterval, callerSignal?: AbortSignal): Promise<DiBucket[]> {
    this.checkQuery(query);
    const body = JSON.stringify({
      service: queryServices(query),
      start_time: query.start,
      end_time: query.end,
      interval_unit: interval.unit,
      interval_value: String(interval.value),
    });
    return followingCaller(callerSignal, (signal) =>
      this.retrying(query, signal, async (state) => {
        const text = (await this.post('/events/interval', query, body, signal, state)).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new DiTransientError('/events/interval answered 200 with a body that is not JSON', 'bad_interval');
        }
        const buckets = (parsed as { buckets?: unknown } | null)?.buckets;
        if (!Array.isArray(buckets))
          throw new DiTransientError('/events/interval answered without a "buckets" array', 'bad_interval');
        return buckets.map((b: unknown) => {
          const key = (b as { key?: unknown } | null)?.key;
          const n = (b as { doc_count?: unknown } | null)?.doc_count;
          if (
            typeof key !== 'number' ||
            !Number.isFinite(key) ||
            typeof n !== 'number' ||
            !Number.isInteger(n) ||
            n < 0
          ) {
            throw new DiTransientError(
              '/events/interval answered a bucket without a numeric "key" and "doc_count"',
              'bad_interval',
            );
          }
          return { key, count: n };
        });
      }),
    );
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Refuses, before any call, a query the API would reject or that cannot be answered correctly. */
  private checkQuery(query: DiQuery): void {
    if (!query.service) throw new DiQueryError('DI query without a service');
    const start = parseRfc3339(query.start);
    const end = parseRfc3339(query.end);
    if (!start) throw new DiQueryError(`DI query start "${query.start}" is not an RFC 3339 time`);
    if (!end) throw new DiQueryError(`DI query end "${query.end}" is not an RFC 3339 time`);
    if (compareInstants(start, end) >= 0) {
      throw new DiQueryError(
        `DI query window is empty: start ${query.start} is not before end ${query.end} (the API would answer "Start ` +
          `Time not after End Time")`,
      );
    }
    if (this.auth.kind === 'oauth' && !query.orgIds?.length && query.providerId === undefined) {
      throw new DiFatalError(
        'an OAuth service account must name the organization (x-org-id): set --org-ids (JUMPCLOUD_ORG_IDS)',
      );
    }
  }

  private retrying<T>(
    query: DiQuery,
    signal: AbortSignal | undefined,
    attempt: (state: AttemptState) => Promise<T>,
  ): Promise<T> {
    const state: AttemptState = { renewedToken: false };
    return withRetries(
      {
        // A filtered query has an unfiltered way (the collector's per-part fetches): a fault that keeps coming (the
        // API's 500 for "extremely complex searches") is not waited out.
        policy:
          query.searchTerm === undefined
            ? this.policy
            : { ...this.policy, maxAttempts: Math.min(this.policy.maxAttempts, SEARCH_TERM_MAX_ATTEMPTS) },
        clock: this.clock,
        signal,
        random: this.opts.random,
        onRetry: (err, delayMs, n) => {
          this.hooks.onRetry?.({ reason: err.reason, status: err.status, delayMs, query });
          const entry = {
            service: query.service,
            ...who(query),
            reason: err.reason,
            status: err.status,
            attempt: n,
            delayMs,
          };
          // A token renewal after a 401 is routine, not worth a warning.
          if (err.reason === 'token_renewal') this.logger?.info(entry, 'DI answered 401; renewing the OAuth token');
          else this.logger?.warn({ ...entry, error: this.auth.redact(err.message) }, 'DI request failed; retrying');
        },
      },
      () => attempt(state),
    );
  }

  private async fetchPage(
    query: DiQuery,
    req: PageRequest,
    signal: AbortSignal | undefined,
    state: AttemptState,
  ): Promise<DiPage> {
    state.headers = undefined;
    state.reservation = undefined;
    const key = streamKeyOf(query);
    let body: Buffer;
    try {
      body = await this.post(
        '/events',
        query,
        pageBody(query, this.limit, req.searchAfter),
        signal,
        state,
        (headers) => {
          state.headers = headers;
        },
        this.buffers,
        (declared) =>
          this.pageMemory.acquire(
            declared ?? this.lastPageBytes.get(key) ?? this.limit * BYTES_PER_EVENT_GUESS,
            signal,
          ),
      );
    } catch (err) {
      (state.reservation as Reservation | undefined)?.release();
      throw err;
    }
    const reservation = state.reservation!;
    reservation.resize(body.length);
    this.lastPageBytes.set(key, body.length);
    try {
      return this.pageOf(body, query, state, reservation);
    } catch (err) {
      this.buffers.release(body); // refused: no event of it went anywhere
      reservation.release();
      throw err;
    }
  }

  private pageOf(pooled: Buffer, query: DiQuery, state: AttemptState, reservation: Reservation): DiPage {
    let body = pooled;
    if (!isUtf8(body)) {
      // JSON is UTF-8; a text decoder would have replaced the bad sequences with U+FFFD, and so does this (rare) path,
      // so the events still go out (nothing is lost) as valid UTF-8 strings.
      this.logger?.warn(
        { service: query.service, ...who(query), bytes: body.length },
        'DI answer is not valid UTF-8: replacing the invalid byte sequences with U+FFFD',
      );
      body = Buffer.from(body.toString('utf8'), 'utf8');
    }
    const events = splitJsonArray(body);
    const h: Dispatcher.ResponseData['headers'] = state.headers ?? {};
    const resultCount = intHeader(h['x-result-count']) ?? events.length;
    const limit = intHeader(h['x-limit']) ?? this.limit;
    if (resultCount !== events.length) {
      throw new DiBadPageError(`X-Result-Count says ${resultCount} but the answer holds ${events.length} events`);
    }
    const rawCursor = h['x-search_after'];
    const searchAfter = Array.isArray(rawCursor) ? rawCursor[0] : rawCursor;
    if (searchAfter !== undefined) {
      try {
        JSON.parse(searchAfter);
      } catch {
        throw new DiBadPageError(`X-Search_after is not JSON: ${JSON.stringify(searchAfter.slice(0, 100))}`);
      }
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.buffers.release(pooled);
      reservation.release();
    };
    const page: DiPage = { events, searchAfter, resultCount, limit, release };
    BUDGETS.set(page, reservation);
    return page;
  }

  /**
   * One POST; resolves the 200 body as bytes (one Buffer over the body's single ArrayBuffer: pages are split as
   * bytes, never decoded whole), throws DiTransientError (retry) or DiFatalError (stop).
   */
  private async post(
    path: string,
    query: DiQuery,
    body: string,
    signal: AbortSignal | undefined,
    state: AttemptState,
    onHeaders?: (headers: Dispatcher.ResponseData['headers']) => void,
    pool?: PageBufferPool,
    /**
     * Reserves memory for a 200 body once its headers (Content-Length) are in, before it is read: a reservation
     * taken before the request would have to guess the size (a live poll's page is KBs, a backfill's 13 MB).
     * Waiting here leaves the body in the socket (TCP backpressure); it is stored in `state.reservation`.
     */
    reserve?: (declaredBytes: number | undefined) => Promise<Reservation>,
  ): Promise<Buffer> {
    const headers: Record<string, string | string[]> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(await this.auth.headers(signal)),
    };
    // Several orgs: the header repeated (undici writes one line per value), as the API documents it.
    if (query.orgIds?.length) headers['x-org-id'] = [...query.orgIds];
    if (query.providerId !== undefined) headers['x-provider-id'] = query.providerId;
    await this.requests.take(streamKeyOf(query), signal);
    this.hooks.onRequest?.({ path, query });
    let res: Dispatcher.ResponseData;
    let bytes: Buffer;
    try {
      res = await request(this.base + path, { method: 'POST', dispatcher: this.agent, headers, body, signal });
      if (reserve && res.statusCode === 200) {
        try {
          state.reservation = await reserve(intHeader(res.headers['content-length']));
        } catch (err) {
          res.body.destroy();
          throw err;
        }
      }
      bytes = await readBody(res, res.statusCode === 200 ? pool : undefined);
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw networkFault(err, `POST ${path}`);
    }
    const status = res.statusCode;
    if (status === 200) {
      this.requests.succeeded();
      onHeaders?.(res.headers);
      return bytes;
    }
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.clock.now());
    if (status === 429 || (status === 503 && retryAfterMs !== undefined)) {
      // The limit is JumpCloud's for the whole key or org, not this request's: every stream holds back.
      const pauseMs = this.requests.throttled(
        retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, this.policy.maxRetryAfterMs),
      );
      this.logger?.warn(
        { service: query.service, ...who(query), status, retryAfterMs, pauseMs },
        `DI answered ${status}: pausing every request for ${Math.ceil(pauseMs / 1000)} s`,
      );
    }
    const text = bytes.toString('utf8');
    this.hooks.onApiError?.({ status, query });
    if (status === 401 && !state.renewedToken && this.auth.invalidate()) {
      // An OAuth token can be revoked or expire early: get a new one once, then treat 401 as final.
      state.renewedToken = true;
      throw new DiTransientError(`POST ${path}: HTTP 401 with an OAuth token; renewing it`, 'token_renewal', 401, 0);
    }
    if (isRetryableStatus(status)) {
      throw statusFault(
        status,
        res.headers,
        this.clock.now(),
        `POST ${path}${messagePart(this.auth.redact(apiMessage(text)))}`,
      );
    }
    throw this.fatal(status, this.auth.redact(apiMessage(text)), query, path);
  }

  private fatal(status: number, message: string, query: DiQuery, path: string): DiFatalError {
    const what = describe(query);
    const said = message ? `: ${message}` : '';
    switch (status) {
      case 400:
        return new DiFatalError(
          `the DI API refused the query for ${what} (400${said}); check --services (names as the API spells them) ` +
            `and the time window`,
          status,
          message,
        );
      case 401:
        return new DiFatalError(
          this.auth.kind === 'apiKey'
            ? `the JumpCloud API key was refused (401${said}): it is invalid or expired — set JUMPCLOUD_API_KEY (or ` +
                `JUMPCLOUD_API_KEY_FILE) to a valid admin API key`
            : `the OAuth access token was refused even after renewal (401${said}): check that the service account ` +
                `still exists and may read Directory Insights`,
          status,
          message,
        );
      case 402:
        return new DiFatalError(
          `Directory Insights is not licensed or not enabled for ` +
            `${orgsOf(query) ?? 'this organization'} (402${said}): enable it in the JumpCloud admin portal, or ` +
            `remove the org from --org-ids`,
          status,
          message,
        );
      case 403:
        return new DiFatalError(
          `access to Directory Insights denied for ${what} (403${said}): the key may be of the wrong type (a ` +
            `Command Runner key cannot read events — use an admin API key), ` +
            (query.providerId !== undefined
              ? `or provider ${query.providerId} is not administered by this key — check --provider-id`
              : query.orgIds?.length
                ? `or ${orgsOf(query)} is not administered by this key — check --org-ids`
                : 'or the request needs an org id (MSP key or service account) — set --org-ids'),
          status,
          message,
        );
      case 404:
        return new DiFatalError(
          `POST ${path} was not found (404${said}): check --api-url, which must end with /insights/directory/v1`,
          status,
          message,
        );
      default:
        return new DiFatalError(`the DI API refused POST ${path} for ${what} (HTTP ${status}${said})`, status, message);
    }
  }
}

/** The fairness key of the request budget: one per stream (its orgs × service), whatever its slices. */
function streamKeyOf(q: DiQuery): string {
  if (q.providerId !== undefined) return `provider:${q.providerId}/${q.service}`;
  const orgs = q.orgIds ?? [];
  return `${orgs[0] ?? ''}${orgs.length > 1 ? `+${orgs.length - 1}` : ''}/${q.service}`;
}

/** How a log line names the orgs (or provider) of a query: `orgId`, or `orgIds` shortened, or `providerId`. */
function who(q: DiQuery): { orgId?: string; orgIds?: string; providerId?: string } {
  if (q.providerId !== undefined) return { providerId: q.providerId };
  const orgs = q.orgIds ?? [];
  if (orgs.length === 0) return {};
  return orgs.length === 1 ? { orgId: orgs[0]! } : { orgIds: shortList(orgs) };
}

/** `org X`, or `one of the N orgs A, B, C, …`; undefined without orgs. */
function orgsOf(q: DiQuery): string | undefined {
  const orgs = q.orgIds ?? [];
  if (orgs.length === 0) return undefined;
  return orgs.length === 1 ? `org ${orgs[0]!}` : `one of the ${orgs.length} orgs ${shortList(orgs)}`;
}

function shortList(orgs: readonly string[]): string {
  return orgs.length <= 3 ? orgs.join(', ') : `${orgs.slice(0, 3).join(', ')}, …`;
}

/** Each page's share of the memory budget (the page object is the caller's: no extra field on it). */
const BUDGETS = new WeakMap<DiPage, Reservation>();
function budgetOf(page: DiPage): Reservation | undefined {
  return BUDGETS.get(page);
}

interface AttemptState {
  renewedToken: boolean;
  /** The page body's share of the memory budget (fetchPage), taken when its headers arrived. */
  reservation?: Reservation;
  headers?: Dispatcher.ResponseData['headers'];
}

/**
 * The whole body as one Buffer. With a Content-Length the chunks are copied straight into a buffer of that size
 * (one page-sized allocation instead of the chunks plus their concatenation); without one, the chunks are
 * concatenated at the end. A body that ends early or runs long is a network fault (retried), like a reset.
 */
async function readBody(res: Dispatcher.ResponseData, pool?: PageBufferPool): Promise<Buffer> {
  const declared = intHeader(res.headers['content-length']);
  if (declared === undefined || declared > 256 * 1024 * 1024) {
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  // Not from Node's shared pool: the page buffer is held (through its events' views) until Fluent Bit acks them.
  const out = pool ? pool.acquire(declared) : Buffer.allocUnsafeSlow(declared);
  let at = 0;
  try {
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      if (at + b.length > declared)
        throw new DiBodyLengthError(`response body is longer than its Content-Length ${declared}`);
      b.copy(out, at);
      at += b.length;
    }
    if (at !== declared)
      throw new DiBodyLengthError(`response body ended after ${at} of ${declared} bytes (Content-Length)`);
  } catch (err) {
    pool?.release(out);
    throw err;
  }
  return out;
}

/** Attempts of a query with search_term at most (see retrying). */
export const SEARCH_TERM_MAX_ATTEMPTS = 4;

function pageBody(q: DiQuery, limit: number, searchAfter: unknown): string {
  const body: Record<string, unknown> = {
    service: queryServices(q),
    start_time: q.start,
    end_time: q.end,
    limit,
    sort: 'ASC',
  };
  if (q.searchTerm !== undefined) body.search_term = q.searchTerm;
  if (searchAfter !== undefined) body.search_after = searchAfter;
  return JSON.stringify(body);
}

function countBody(q: DiQuery): string {
  return JSON.stringify({
    service: queryServices(q),
    start_time: q.start,
    end_time: q.end,
    ...(q.searchTerm !== undefined ? { search_term: q.searchTerm } : {}),
  });
}

function queryServices(q: DiQuery): string[] {
  return q.alsoServices?.length ? [q.service, ...q.alsoServices] : [q.service];
}

function intHeader(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || !/^\s*\d+\s*$/.test(s)) return undefined;
  return Number(s);
}

/** The API's `{"message": …}`, or the start of a non-JSON body. */
function apiMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown } | null)?.message;
    if (typeof m === 'string') return m.slice(0, 500);
  } catch {
    // fall through
  }
  return text.trim().slice(0, 200);
}

function messagePart(m: string): string {
  return m ? ` (${m})` : '';
}

function describe(q: DiQuery): string {
  if (q.providerId !== undefined) return `service "${q.service}" of provider ${q.providerId}`;
  const orgs = orgsOf(q);
  return orgs ? `service "${q.service}" of ${orgs}` : `service "${q.service}"`;
}

/**
 * A full page without X-Search_after: build the cursor JumpCloud would have sent ([epoch ms, id] of the last
 * event) rather than stop early and lose the rest of the window.
 */
function fallbackCursor(events: PageEvents, logger: Logger | undefined, query: DiQuery): string {
  const last = events.length - 1;
  const timestamp = events.timestamp(last);
  const t = parseRfc3339(timestamp);
  if (!t)
    throw new DiBadPageError(
      `a full page came without X-Search_after and its last event's timestamp "${timestamp}" is not RFC 3339`,
    );
  logger?.warn(
    { service: query.service, ...who(query) },
    'DI answer had no X-Search_after; continuing after the last event',
  );
  return JSON.stringify([t.ms, events.id(last)]);
}

/**
 * Runs `call` with a signal of its own that follows the caller's (AbortSignal.any keeps no listener on the caller's
 * signal, which many streams may share). AbortSignal.any holds its sources weakly, so the caller's signal is kept
 * reachable until the call settles: an AbortSignal.timeout() nobody else holds would be collected with its timer,
 * and a call retrying a refused connection would never stop.
 */
function followingCaller<T>(
  callerSignal: AbortSignal | undefined,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (!callerSignal) return call(undefined);
  return call(AbortSignal.any([callerSignal])).finally(() => callerSignal.aborted);
}
