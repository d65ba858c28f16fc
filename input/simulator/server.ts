// A Directory Insights API simulator: a real HTTP server on loopback implementing POST /events, /events/count,
// /events/interval and /events/distinct as documented (paging headers, limit rules, error bodies, auth, x-org-id,
// x-provider-id, retention), events indexed late, scripted scenarios, and seeded fault injection. Tests,
// benchmarks and the built-in demo run against it. The parts: auth.ts (who asks), query.ts (what they ask),
// routes.ts (the answers and faults), events.ts (the events).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { systemClock } from '../clock.js';
import { DI_BASE_PATH } from '../di/regions.js';
import { parseRfc3339, type Instant } from '../di/rfc3339.js';
import type { Clock, Logger } from '../types.js';
import { AggregationError } from './aggregations.js';
import { Auth } from './auth.js';
import { EventStore, GENERATED_SERVICES, type ExplicitEvent, type IndexDelay, type Skeleton } from './events.js';
import { FaultPlan, type FaultKind, type FaultOptions } from './faults.js';
import { header, HttpError, Responder } from './http.js';
import { parseQuery, type QueryContext, type SearchTermMode } from './query.js';
import { answerAggregate, answerEvents, injectFault, type RouteContext, type SimulatorStats } from './routes.js';
import { scenarioEvents, type Scenario, type ScenarioEvent } from './scenario/events.js';

export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, SEARCH_TERM_MODES, VALID_SERVICES, type SearchTermMode } from './query.js';
export type { SimulatorStats } from './routes.js';

/** The query routes under /insights/directory/v1 (all POST, same query body and auth). */
const QUERY_ROUTES = new Set(['/events', '/events/count', '/events/interval', '/events/distinct']);
const MAX_BODY = 1_048_576;

/** A scenario injected into the generated stream (scenarios/README.md). */
export interface ScenarioRun {
  /** A scenario file, or one loaded with loadScenario. */
  readonly scenario: string | Scenario;
  /** Its start (epoch ms or RFC 3339); default the clock's now when the simulator starts. */
  readonly start?: number | string;
  /** The org whose stream carries it; default the first org. */
  readonly orgId?: string;
}

export interface SimulatorOptions {
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly seed?: number;
  /** Org ids. Default ['']: one org reached without x-org-id. Non-empty ids make x-org-id required. */
  readonly orgs?: readonly string[];
  /** Services with generated events; default every service of the catalog (catalog.ts). */
  readonly services?: readonly string[];
  /**
   * Provider (MSP) ids: each has a Multi-Tenant-Portal stream read with x-provider-id, and org i belongs to provider
   * i mod n (5 % of the admin actions in its orgs are then its admins', which exclude_provider_activity removes).
   */
  readonly providers?: readonly string[];
  /** Generated events per minute per stream (an org's service, a provider's portal); default 60; 0 for none. */
  readonly eventsPerMinute?: number;
  /** Start of generated events (epoch ms or RFC 3339); default 1 h before the clock's now. */
  readonly from?: number | string;
  /** End of generated events (inclusive), or 'live' (default): events keep coming as the clock advances. */
  readonly to?: number | string | 'live';
  readonly indexDelay?: Partial<IndexDelay>;
  /** Events served as given, besides the generated ones. */
  readonly events?: readonly ExplicitEvent[];
  /** Scripted sequences injected into the generated stream. */
  readonly scenarios?: readonly ScenarioRun[];
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
  /** A provider's Multi-Tenant-Portal events instead of an org's (x-provider-id). */
  readonly providerId?: string;
  readonly service: string;
  readonly start: number | string;
  /** Inclusive. */
  readonly end: number | string;
  /** Only events visible at this clock time; default: every event that exists in the range. */
  readonly visibleAt?: number;
  /** As the body flag: without provider activity. */
  readonly excludeProviderActivity?: boolean;
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
  /** The events the scenarios injected, in time order, exactly as served. */
  readonly scenarioEvents: readonly ScenarioEvent[];
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

/** What the request handler needs; hiddenFromAll changes while running. */
interface State extends RouteContext {
  readonly opts: SimulatorOptions;
  readonly auth: Auth;
  hiddenFromAll: Set<string>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 1;
  const orgs = opts.orgs?.length ? [...opts.orgs] : [''];
  const providers = opts.providers ?? [];
  const scripted = injectedEvents(opts, clock.now());
  const store = new EventStore({
    seed,
    orgs,
    providers,
    services: opts.services ?? GENERATED_SERVICES,
    eventsPerMinute: opts.eventsPerMinute ?? 60,
    fromMs: toMs(opts.from, clock.now() - 3_600_000, 'from'),
    toMs: opts.to === undefined || opts.to === 'live' ? 'live' : toMs(opts.to, 0, 'to'),
    indexDelay: { typicalMaxMs: 5_000, lateFraction: 0.02, maxMs: 30 * 60_000, ...opts.indexDelay },
    events: [...(opts.events ?? []), ...scripted],
  });
  const stats: SimulatorStats = { requests: {}, faults: {}, events: 0, pages: 0 };
  const state: State = {
    opts,
    store,
    clock,
    stats,
    responder: new Responder(stats.requests),
    faults: new FaultPlan(opts.faults, seed),
    pageLatencyMs: opts.pageLatencyMs,
    hiddenFromAll: new Set(opts.hiddenFromAll ?? []),
    auth: authOf(opts, orgs, providers, clock),
  };
  const sockets = new Set<Socket>();
  const server = await listen(state, sockets);
  const address = server.address() as AddressInfo;
  const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return handle(state, server, sockets, origin, address.port, scripted);
}

function authOf(opts: SimulatorOptions, orgs: readonly string[], providers: readonly string[], clock: Clock): Auth {
  return new Auth({
    clock,
    orgs,
    providers,
    apiKeys: opts.apiKeys ?? ['sim-api-key'],
    commandRunnerKeys: opts.commandRunnerKeys ?? [],
    oauthClients: opts.oauthClients ?? [],
    tokenTtlSec: opts.tokenTtlSec ?? 3600,
    requireOrgId: opts.requireOrgId ?? orgs.some((o) => o !== ''),
    unlicensedOrgs: opts.unlicensedOrgs ?? [],
  });
}

/**
 * The events the options' scenarios inject, exactly as served: each in its org's stream (or its provider's), from
 * its start (default `now`). `simulate --print` writes them.
 */
export function injectedEvents(opts: SimulatorOptions, now: number): ScenarioEvent[] {
  const orgs = opts.orgs?.length ? opts.orgs : [''];
  const providers = opts.providers ?? [];
  const seed = opts.seed ?? 1;
  return (opts.scenarios ?? []).flatMap((run) => {
    const orgId = run.orgId ?? orgs[0]!;
    const i = orgs.indexOf(orgId);
    const providerId = providers.length > 0 ? providers[(i < 0 ? 0 : i) % providers.length] : undefined;
    const start = toMs(run.start, now, 'scenario start');
    return scenarioEvents(run.scenario, { seed, start, orgId, ...(providerId !== undefined ? { providerId } : {}) });
  });
}

async function listen(state: State, sockets: Set<Socket>): Promise<Server> {
  const server = createServer((req, res) => receive(state, req, res));
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(state.opts.port ?? 0, state.opts.host ?? '127.0.0.1', () => resolve());
  });
  return server;
}

/** Reads the body (at most 1 MiB), then answers; an unexpected error is a 500 and a log line. */
function receive(state: State, req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return state.responder.send(res, 'oversize', 413, { message: 'request body too large' });
    route(state, req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
      state.opts.logger?.error({ err: String(err) }, 'simulator failed to answer');
      if (!res.headersSent) state.responder.send(res, 'error', 500, { message: 'simulator error' });
      else res.destroy();
    });
  });
}

async function route(state: State, req: IncomingMessage, res: ServerResponse, text: string): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const send = state.responder.send.bind(state.responder);
  if (path === '/oauth2/token') {
    if (req.method !== 'POST') {
      return send(res, path, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
    }
    const t = state.auth.token(req, text);
    return send(res, path, t.status, t.body);
  }
  const r = path.startsWith(DI_BASE_PATH) ? path.slice(DI_BASE_PATH.length) : path;
  if (!QUERY_ROUTES.has(r)) return send(res, r, 404, { message: `Not Found: ${path}` });
  // RFC 9110: a 405 lists the allowed methods.
  if (req.method !== 'POST') return send(res, r, 405, { message: 'Method Not Allowed: use POST' }, { Allow: 'POST' });
  const orgId = header(req, 'x-org-id');
  state.opts.onRequest?.({ route: r, ...(orgId !== undefined ? { orgId } : {}), at: state.clock.now() });
  const fault = state.faults.next();
  if (fault && injectFault(state, res, r, fault)) return;
  try {
    const q = parseQuery(text, state.auth.authenticate(req), queryContext(state));
    if (r === '/events') return await answerEvents(state, res, q, fault);
    answerAggregate(state, res, r, q, fault);
  } catch (err) {
    if (err instanceof HttpError) return send(res, r, err.status, { message: err.message });
    if (err instanceof AggregationError) return send(res, r, 400, { message: err.message });
    throw err;
  }
}

function queryContext(state: State): QueryContext {
  const o = state.opts;
  return {
    store: state.store,
    now: state.clock.now(),
    retentionMs: (o.retentionDays ?? 90) * 86_400_000,
    hiddenFromAll: state.hiddenFromAll,
    searchTerm: o.searchTerm ?? 'apply',
  };
}

function handle(
  state: State,
  server: Server,
  sockets: Set<Socket>,
  origin: string,
  port: number,
  scripted: readonly ScenarioEvent[],
): Simulator {
  const { store, faults } = state;
  return {
    url: origin + DI_BASE_PATH,
    tokenUrl: `${origin}/oauth2/token`,
    port,
    apiKey: state.auth.apiKey,
    stats: state.stats,
    store,
    scenarioEvents: scripted,
    expectedEvents(q) {
      const streams =
        q.providerId !== undefined
          ? store.providerStreamsFor(q.providerId, q.service)
          : store.streamsFor([q.orgId ?? ''], q.service);
      const match = q.excludeProviderActivity ? { match: (s: Skeleton) => !store.isProviderActivity(s) } : {};
      const start = toInstant(q.start, 'start');
      const end = toInstant(q.end, 'end');
      const range = { streams, start, end, visibleAt: q.visibleAt ?? Infinity, ...match };
      return store.scan(range, Infinity).map((s) => ({ id: s.id, timestamp: s.timestamp }));
    },
    failNext: (kind, times = 1) => faults.queue(kind, times),
    setFaultRate: (rate) => faults.setRate(rate),
    revokeTokens: () => state.auth.revokeTokens(),
    setHiddenFromAll: (services) => {
      state.hiddenFromAll = new Set(services);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
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
