// A Directory Insights API simulator: a real HTTP server on loopback implementing POST /events,
// /events/count, /events/interval and /events/distinct as documented (paging headers, limit rules, error bodies, auth, x-org-id, retention),
// events indexed late, and seeded fault injection. Tests, benchmarks and the built-in demo run against it.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock } from '../clock.js';
import { DI_BASE_PATH } from '../di/regions.js';
import { parseRfc3339, type Instant } from '../di/rfc3339.js';
import type { Clock, Logger } from '../types.js';
import { EventStore, GENERATED_SERVICES, type ExplicitEvent, type IndexDelay, type Skeleton } from './events.js';
import { AggregationError, distinctBuckets, intervalBuckets } from './aggregations.js';
import { FaultPlan, type FaultKind, type FaultOptions } from './faults.js';
import { compileSearchTerm, SearchTermError } from './search-term.js';

/** Service names the API accepts (the OpenAPI enum). Anything else gets a 400 listing these. */
export const VALID_SERVICES = [
  'alerts', 'all', 'directory', 'ldap', 'mdm', 'notifications', 'object_storage', 'password_manager', 'password_vault',
  'radius', 'reports', 'saas_app_management', 'software', 'sso', 'systems', 'access_management', 'asset_management',
  'workflows', 'genai', 'aigw', 'ai_admin', 'generic_di',
] as const;

/** The query routes under /insights/directory/v1 (all POST, same query body and auth). */
const QUERY_ROUTES = new Set(['/events', '/events/count', '/events/interval', '/events/distinct']);

export const DEFAULT_PAGE_LIMIT = 1000;
export const MAX_PAGE_LIMIT = 10_000;

/** What the simulator does with `search_term` (SimulatorOptions.searchTerm). */
export const SEARCH_TERM_MODES = ['apply', 'ignore', 'refuse', 'fail'] as const;
export type SearchTermMode = (typeof SEARCH_TERM_MODES)[number];

export interface SimulatorOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly seed?: number;
  /** Org ids. Default ['']: one org reached without x-org-id. Non-empty ids make x-org-id required. */
  readonly orgs?: readonly string[];
  /** Services with generated events; default directory, sso, radius, ldap, systems, password_manager. */
  readonly services?: readonly string[];
  /** Generated events per minute per (org, service); default 60; 0 for only `events`. */
  readonly eventsPerMinute?: number;
  /** Start of generated events (epoch ms or RFC 3339); default 1 h before the clock's now. */
  readonly from?: number | string;
  /** End of generated events (inclusive), or 'live' (default): events keep coming as the clock advances. */
  readonly to?: number | string | 'live';
  readonly indexDelay?: Partial<IndexDelay>;
  /** Events served as given, besides the generated ones. */
  readonly events?: readonly ExplicitEvent[];
  /** Accepted `x-api-key` values; default ['sim-api-key']. */
  readonly apiKeys?: readonly string[];
  /** Keys of the wrong type (e.g. Command Runner): 403. */
  readonly commandRunnerKeys?: readonly string[];
  /** OAuth service accounts accepted by POST /oauth2/token. */
  readonly oauthClients?: readonly { readonly clientId: string; readonly clientSecret: string }[];
  /** Lifetime of issued tokens, seconds of the clock; default 3600. */
  readonly tokenTtlSec?: number;
  /** Require x-org-id even with an API key; default: when `orgs` holds a non-empty id. */
  readonly requireOrgId?: boolean;
  /** Orgs without a Directory Insights license: 402. */
  readonly unlicensedOrgs?: readonly string[];
  readonly faults?: FaultOptions;
  /**
   * Services whose events `service: ["all"]` leaves out (they are still served when named, and by
   * /events/distinct when named): the gap Elastic's integration hit with password_manager. setHiddenFromAll
   * changes it while running.
   */
  readonly hiddenFromAll?: readonly string[];
  /**
   * What `search_term` does: 'apply' (default, as documented), 'ignore' (answered as if absent: an API or proxy
   * without it), 'refuse' (400 for any query that has one) or 'fail' (500, as for an "extremely complex search").
   */
  readonly searchTerm?: SearchTermMode;
  /** Real (wall-clock) delay before each /events answer, to model network + query time. */
  readonly pageLatencyMs?: number;
  /** Retention; older start_time is clamped like the API does. Default 90 days. */
  readonly retentionDays?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Called as each /events or /events/count request arrives (before any injected fault): tests time them. */
  readonly onRequest?: (info: { readonly route: string; readonly orgId?: string; readonly at: number }) => void;
}

export interface ExpectedQuery {
  readonly orgId?: string;
  readonly service: string;
  readonly start: number | string;
  /** Inclusive. */
  readonly end: number | string;
  /** Only events visible at this clock time; default: every event that exists in the range. */
  readonly visibleAt?: number;
}

export interface SimulatorStats {
  /** Answers by route and status, e.g. requests['/events']['200']. */
  readonly requests: Record<string, Record<string, number>>;
  readonly faults: Partial<Record<FaultKind, number>>;
  /** Events served in /events answers (faulty ones excluded). */
  events: number;
  pages: number;
}

export interface Simulator {
  /** Base URL up to /insights/directory/v1. */
  readonly url: string;
  readonly tokenUrl: string;
  readonly port: number;
  /** The first accepted API key. */
  readonly apiKey: string;
  readonly stats: SimulatorStats;
  readonly store: EventStore;
  expectedEvents(q: ExpectedQuery): { id: string; timestamp: string }[];
  /** The next `times` API requests fail with `kind`. */
  failNext(kind: FaultKind, times?: number): void;
  setFaultRate(rate: number): void;
  /** Invalidates every issued OAuth token (the next call with one gets 401). */
  revokeTokens(): void;
  /** Which services `all` leaves out from now on ([] : none). */
  setHiddenFromAll(services: readonly string[]): void;
  close(): Promise<void>;
}

interface Caller {
  readonly orgIds: readonly string[];
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 1;
  const orgs = opts.orgs?.length ? [...opts.orgs] : [''];
  const store = new EventStore({
    seed,
    orgs,
    services: opts.services ?? GENERATED_SERVICES,
    eventsPerMinute: opts.eventsPerMinute ?? 60,
    fromMs: toMs(opts.from, clock.now() - 3_600_000, 'from'),
    toMs: opts.to === undefined || opts.to === 'live' ? 'live' : toMs(opts.to, 0, 'to'),
    indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.02, maxMs: 30 * 60_000, ...opts.indexDelay },
    events: opts.events,
  });
  const apiKeys = new Set(opts.apiKeys ?? ['sim-api-key']);
  const runnerKeys = new Set(opts.commandRunnerKeys ?? []);
  const clients = new Map((opts.oauthClients ?? []).map((c) => [c.clientId, c.clientSecret]));
  const tokens = new Map<string, number>(); // token → expiry (clock ms)
  const requireOrgId = opts.requireOrgId ?? orgs.some((o) => o !== '');
  const unlicensed = new Set(opts.unlicensedOrgs ?? []);
  const faults = new FaultPlan(opts.faults, seed);
  const retentionMs = (opts.retentionDays ?? 90) * 86_400_000;
  const stats: SimulatorStats = { requests: {}, faults: {}, events: 0, pages: 0 };
  const sockets = new Set<Socket>();
  let hiddenFromAll = new Set(opts.hiddenFromAll ?? []);

  const count = (route: string, status: number | string): void => {
    const r = (stats.requests[route] ??= {});
    r[String(status)] = (r[String(status)] ?? 0) + 1;
  };

  const send = (res: ServerResponse, route: string, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
    count(route, status);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, ...headers });
    res.end(bytes);
  };

  const authenticate = (req: IncomingMessage): Caller => {
    const key = header(req, 'x-api-key');
    const bearer = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    let oauth = false;
    if (key !== undefined) {
      if (runnerKeys.has(key)) throw new HttpError(403, 'Forbidden: this API key cannot access Directory Insights (Command Runner keys are not allowed)');
      if (!apiKeys.has(key)) throw new HttpError(401, 'Unauthorized: invalid API key');
    } else if (bearer !== undefined) {
      const exp = tokens.get(bearer);
      if (exp === undefined || clock.now() >= exp) throw new HttpError(401, 'Unauthorized: invalid or expired token');
      oauth = true;
    } else {
      throw new HttpError(401, 'Unauthorized: missing API key');
    }
    const raw = header(req, 'x-org-id');
    const given = raw === undefined ? [] : raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (given.length === 0) {
      if (oauth || requireOrgId) throw new HttpError(403, 'Forbidden: x-org-id header is required');
      return { orgIds: [''] };
    }
    if (!requireOrgId && orgs.length === 1 && orgs[0] === '') return { orgIds: [''] };
    for (const o of given) {
      if (!orgs.includes(o)) throw new HttpError(403, `Forbidden: organization ${o} is not accessible with these credentials`);
      if (unlicensed.has(o)) throw new HttpError(402, 'Directory Insights is not enabled for your organization');
    }
    return { orgIds: given };
  };

  const parseQuery = (text: string, caller: Caller) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, 'invalid JSON body');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object');
    const service = body.service;
    if (!Array.isArray(service) || service.length === 0 || !service.every((s) => typeof s === 'string')) {
      throw new HttpError(400, `service is required: an array of service names (${VALID_SERVICES.join(', ')})`);
    }
    for (const s of service as string[]) {
      if (!(VALID_SERVICES as readonly string[]).includes(s)) {
        throw new HttpError(400, `unknown service "${s}"; valid services are: ${VALID_SERVICES.join(', ')}`);
      }
    }
    if (typeof body.start_time !== 'string') throw new HttpError(400, 'start_time is required (RFC 3339, e.g. 2020-01-01T14:00:00Z)');
    const start = parseRfc3339(body.start_time);
    if (!start) throw new HttpError(400, `invalid start_time "${body.start_time}": expected RFC 3339, e.g. 2020-01-01T14:00:00Z`);
    const now = clock.now();
    let end: Instant = { ms: now, subNs: 0 };
    if (body.end_time !== undefined) {
      if (typeof body.end_time !== 'string' || !parseRfc3339(body.end_time)) throw new HttpError(400, `invalid end_time "${String(body.end_time)}": expected RFC 3339`);
      end = parseRfc3339(body.end_time)!;
    }
    if (start.ms > now) throw new HttpError(400, 'Start Time is in the future');
    if (end.ms < start.ms || (end.ms === start.ms && end.subNs <= start.subNs)) throw new HttpError(400, 'Start Time not after End Time');
    let limit = DEFAULT_PAGE_LIMIT;
    if (typeof body.limit === 'number' && Number.isInteger(body.limit) && body.limit > 0) {
      if (body.limit > MAX_PAGE_LIMIT) throw new HttpError(400, `limit ${body.limit} exceeds the maximum of ${MAX_PAGE_LIMIT}`);
      limit = body.limit;
    } // nonsensical values get the default row count, as documented
    if (body.sort !== undefined && body.sort !== 'ASC' && body.sort !== 'asc') {
      throw new HttpError(400, `sort "${String(body.sort)}": this simulator serves ASC only`);
    }
    let after: { ms: number; id: string } | undefined;
    if (body.search_after !== undefined) {
      const sa = body.search_after;
      if (!Array.isArray(sa) || sa.length !== 2 || typeof sa[0] !== 'number' || typeof sa[1] !== 'string') {
        throw new HttpError(400, 'invalid search_after: send the X-Search_after header of the previous answer verbatim');
      }
      after = { ms: sa[0], id: sa[1] };
    }
    // Retention: older history is gone; the API clamps the start.
    const oldest = now - retentionMs;
    const from = start.ms < oldest ? { ms: oldest, subNs: 0 } : start;
    const streams = [...new Set((service as string[]).flatMap((s) => store.streamsFor(caller.orgIds, s, hiddenFromAll)))];
    let term: ReturnType<typeof compileSearchTerm>;
    if (body.search_term !== undefined && opts.searchTerm === 'refuse') throw new HttpError(400, 'search_term is not supported');
    if (body.search_term !== undefined && opts.searchTerm === 'fail') throw new HttpError(500, 'Technical difficulties processing your request');
    try {
      term = opts.searchTerm === 'ignore' ? undefined : compileSearchTerm(body.search_term);
    } catch (err) {
      if (err instanceof SearchTermError) throw new HttpError(400, err.message);
      throw err;
    }
    const match = term && ((s: Skeleton) => {
      let parsed: Record<string, unknown> | undefined;
      return term({ s, event: () => (parsed ??= JSON.parse(store.text(s)) as Record<string, unknown>) });
    });
    return { streams, start: from, end, after, visibleAt: now, limit, rawAfter: after ? JSON.stringify(body.search_after) : undefined, body, ...(match ? { match } : {}) };
  };

  const answerEvents = async (req: IncomingMessage, res: ServerResponse, text: string, fault: FaultKind | undefined): Promise<void> => {
    const q = parseQuery(text, authenticate(req));
    const page: Skeleton[] = store.scan(q, q.limit);
    if (opts.pageLatencyMs) await new Promise((r) => setTimeout(r, opts.pageLatencyMs));
    const body = store.page(page);
    const last = page[page.length - 1];
    const headers: Record<string, string> = {
      'X-Result-Count': String(page.length),
      'X-Limit': String(q.limit),
      'X-Sort': 'ASC',
      'X-Request-Id': randomUUID(),
    };
    const cursor = last ? JSON.stringify([last.ms, last.id]) : q.rawAfter;
    if (cursor) headers['X-Search_after'] = cursor;
    if (fault === 'truncated') return truncate(res, '/events', body, headers);
    stats.events += page.length;
    stats.pages++;
    send(res, '/events', 200, body, headers);
  };

  /** `/events/distinct` of field `service`, counted per stream (no event is parsed); any other field: aggregations.ts. */
  const serviceBuckets = (q: ReturnType<typeof parseQuery>) => {
    const counts = new Map<string, number>();
    for (const i of q.streams) {
      const n = store.count({ ...q, streams: [i] });
      if (n > 0) counts.set(store.serviceOf(i), (counts.get(store.serviceOf(i)) ?? 0) + n);
    }
    const buckets = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([key, doc_count]) => ({ key, doc_count }));
    return { buckets, doc_count_error_upper_bound: 0, sum_other_doc_count: 0 };
  };

  const truncate = (res: ServerResponse, route: string, text: Buffer | string, headers: Record<string, string>): void => {
    const body = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
    const cut = body.subarray(0, Math.floor(body.length / 2));
    count(route, 'truncated');
    if (faults.coin()) {
      // The connection dies mid-body: fewer bytes than Content-Length.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
      res.write(cut, () => res.socket?.destroy());
    } else {
      // A complete HTTP answer whose JSON stops halfway (a proxy cut it).
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': cut.length, ...headers });
      res.end(cut);
    }
  };

  const injectFault = (res: ServerResponse, route: string, kind: FaultKind): boolean => {
    stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
    switch (kind) {
      case '429':
        send(res, route, 429, { message: 'Too Many Requests' });
        return true;
      case '429-retry-after': {
        const secs = 1 + (faults.coin() ? 1 : 0);
        const value = faults.coin() ? String(secs) : new Date(clock.now() + secs * 1000 + 999).toUTCString();
        send(res, route, 429, { message: 'Too Many Requests' }, { 'Retry-After': value });
        return true;
      }
      case '503':
        send(res, route, 503, { message: 'Service Unavailable' }, faults.coin() ? { 'Retry-After': '1' } : {});
        return true;
      case '500':
        send(res, route, 500, { message: 'Technical difficulties processing your request' });
        return true;
      case 'reset':
        count(route, 'reset');
        res.socket?.resetAndDestroy();
        return true;
      case 'timeout':
        count(route, 'timeout'); // never answers; the client times out, close() ends the socket
        return true;
      case 'not-array':
        if (faults.coin()) send(res, route, 200, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'content-type': 'text/html' });
        else send(res, route, 200, { message: 'internal error' });
        return true;
      case 'truncated':
        return false; // needs the real answer: handled by the route
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, text: string): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/oauth2/token') {
      if (req.method !== 'POST') return send(res, path, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
      return token(req, res, text);
    }
    const route = path.startsWith(DI_BASE_PATH) ? path.slice(DI_BASE_PATH.length) : path;
    if (!QUERY_ROUTES.has(route)) return send(res, route, 404, { message: `Not Found: ${path}` });
    if (req.method !== 'POST') return send(res, route, 405, { message: 'Method Not Allowed: use POST' }, { Allow: 'POST' }); // RFC 9110: a 405 lists the allowed methods
    opts.onRequest?.({ route, ...(header(req, 'x-org-id') !== undefined ? { orgId: header(req, 'x-org-id') } : {}), at: clock.now() });
    const fault = faults.next();
    if (fault && injectFault(res, route, fault)) return;
    try {
      if (route === '/events') return await answerEvents(req, res, text, fault);
      const q = parseQuery(text, authenticate(req));
      const body = JSON.stringify(route === '/events/count' ? { count: store.count(q) }
        : route === '/events/interval' ? intervalBuckets(store, q, q.body)
        : q.body.field === 'service' ? serviceBuckets(q) : distinctBuckets(store, q, q.body));
      if (fault === 'truncated') return truncate(res, route, body, {});
      send(res, route, 200, body);
    } catch (err) {
      if (err instanceof HttpError) return send(res, route, err.status, { message: err.message });
      if (err instanceof AggregationError) return send(res, route, 400, { message: err.message });
      throw err;
    }
  };

  const token = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    const auth = /^Basic\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    const decoded = auth ? Buffer.from(auth, 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const id = sep < 0 ? '' : decoded.slice(0, sep);
    const secret = sep < 0 ? '' : decoded.slice(sep + 1);
    if (!id || clients.get(id) !== secret) {
      return send(res, '/oauth2/token', 401, { error: 'invalid_client', error_description: 'client authentication failed' });
    }
    const form = new URLSearchParams(text);
    if (form.get('grant_type') !== 'client_credentials') {
      return send(res, '/oauth2/token', 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
    }
    const ttl = opts.tokenTtlSec ?? 3600;
    const value = randomBytes(24).toString('base64url');
    tokens.set(value, clock.now() + ttl * 1000);
    send(res, '/oauth2/token', 200, { access_token: value, expires_in: ttl, token_type: 'bearer', scope: form.get('scope') ?? 'api' });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1_048_576) chunks.push(c);
    });
    req.on('end', () => {
      if (size > 1_048_576) return send(res, 'oversize', 413, { message: 'request body too large' });
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        opts.logger?.error({ err: String(err) }, 'simulator failed to answer');
        if (!res.headersSent) send(res, 'error', 500, { message: 'simulator error' });
        else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: origin + DI_BASE_PATH,
    tokenUrl: `${origin}/oauth2/token`,
    port: address.port,
    apiKey: [...apiKeys][0] ?? '',
    stats,
    store,
    expectedEvents(q) {
      const start = toInstant(q.start, 'start');
      const end = toInstant(q.end, 'end');
      const streams = store.streamsFor([q.orgId ?? ''], q.service);
      return store.scan({ streams, start, end, visibleAt: q.visibleAt ?? Infinity }, Infinity).map((s) => ({ id: s.id, timestamp: s.timestamp }));
    },
    failNext: (kind, times = 1) => faults.queue(kind, times),
    setFaultRate: (rate) => faults.setRate(rate),
    revokeTokens: () => tokens.clear(),
    setHiddenFromAll: (services) => {
      hiddenFromAll = new Set(services);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function toMs(v: number | string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  const t = parseRfc3339(v);
  if (!t) throw new Error(`simulator option ${what}: "${v}" is not an RFC 3339 time`);
  return t.ms;
}

function toInstant(v: number | string, what: string): Instant {
  if (typeof v === 'number') return { ms: v, subNs: 0 };
  const t = parseRfc3339(v);
  if (!t) throw new Error(`${what} "${v}" is not an RFC 3339 time`);
  return t;
}
