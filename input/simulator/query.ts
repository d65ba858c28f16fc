// The query body of the four query routes, read as the API reads it: services, time range (retention-clamped),
// limit, sort, search_after, search_term and exclude_provider_activity, turned into a range of the store.
import { parseRfc3339, type Instant } from '../di/rfc3339.js';
import type { Caller } from './auth.js';
import type { EventStore, ScanRange, Skeleton } from './events.js';
import { HttpError } from './http.js';
import { compileSearchTerm, SearchTermError } from './search-term.js';

/** Service names the API accepts (the OpenAPI enum). Anything else gets a 400 listing these. */
export const VALID_SERVICES = [
  'alerts',
  'all',
  'directory',
  'ldap',
  'mdm',
  'notifications',
  'object_storage',
  'password_manager',
  'password_vault',
  'radius',
  'reports',
  'saas_app_management',
  'software',
  'sso',
  'systems',
  'access_management',
  'asset_management',
  'workflows',
  'genai',
  'aigw',
  'ai_admin',
  'generic_di',
] as const;

export const DEFAULT_PAGE_LIMIT = 1000;
export const MAX_PAGE_LIMIT = 10_000;

/** What the simulator does with `search_term` (SimulatorOptions.searchTerm). */
export const SEARCH_TERM_MODES = ['apply', 'ignore', 'refuse', 'fail'] as const;
export type SearchTermMode = (typeof SEARCH_TERM_MODES)[number];

export interface Query extends ScanRange {
  readonly limit: number;
  /** The request's search_after, verbatim: the cursor of an empty page. */
  readonly rawAfter?: string;
  readonly body: Record<string, unknown>;
}

export interface QueryContext {
  readonly store: EventStore;
  readonly now: number;
  readonly retentionMs: number;
  readonly hiddenFromAll: ReadonlySet<string>;
  readonly searchTerm: SearchTermMode;
}

export function parseQuery(text: string, caller: Caller, ctx: QueryContext): Query {
  const body = jsonObject(text);
  const services = serviceList(body.service);
  const { start, end } = timeRange(body, ctx.now);
  const limit = pageLimit(body.limit);
  if (body.sort !== undefined && body.sort !== 'ASC' && body.sort !== 'asc') {
    throw new HttpError(400, `sort "${String(body.sort)}": this simulator serves ASC only`);
  }
  // Retention: older history is gone; the API clamps the start.
  const oldest = ctx.now - ctx.retentionMs;
  const from = start.ms < oldest ? { ms: oldest, subNs: 0 } : start;
  const select = (s: string): number[] =>
    caller.kind === 'provider'
      ? ctx.store.providerStreamsFor(caller.providerId, s, ctx.hiddenFromAll)
      : ctx.store.streamsFor(caller.orgIds, s, ctx.hiddenFromAll);
  const streams = [...new Set(services.flatMap(select))];
  const after = searchAfter(body.search_after);
  const match = matcher(body, ctx);
  return {
    streams,
    start: from,
    end,
    after,
    visibleAt: ctx.now,
    limit,
    body,
    ...(after ? { rawAfter: JSON.stringify(body.search_after) } : {}),
    ...(match ? { match } : {}),
  };
}

function jsonObject(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid JSON body');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function serviceList(service: unknown): string[] {
  if (!Array.isArray(service) || service.length === 0 || !service.every((s) => typeof s === 'string')) {
    throw new HttpError(400, `service is required: an array of service names (${VALID_SERVICES.join(', ')})`);
  }
  for (const s of service as string[]) {
    if (!(VALID_SERVICES as readonly string[]).includes(s)) {
      throw new HttpError(400, `unknown service "${s}"; valid services are: ${VALID_SERVICES.join(', ')}`);
    }
  }
  return service as string[];
}

function timeRange(body: Record<string, unknown>, now: number): { start: Instant; end: Instant } {
  const example = 'RFC 3339, e.g. 2020-01-01T14:00:00Z';
  if (typeof body.start_time !== 'string') throw new HttpError(400, `start_time is required (${example})`);
  const start = parseRfc3339(body.start_time);
  if (!start) throw new HttpError(400, `invalid start_time "${body.start_time}": expected ${example}`);
  let end: Instant = { ms: now, subNs: 0 };
  if (body.end_time !== undefined) {
    const parsed = typeof body.end_time === 'string' ? parseRfc3339(body.end_time) : undefined;
    if (!parsed) throw new HttpError(400, `invalid end_time "${String(body.end_time)}": expected RFC 3339`);
    end = parsed;
  }
  if (start.ms > now) throw new HttpError(400, 'Start Time is in the future');
  if (end.ms < start.ms || (end.ms === start.ms && end.subNs <= start.subNs)) {
    throw new HttpError(400, 'Start Time not after End Time');
  }
  return { start, end };
}

/** Nonsensical values get the default row count, as documented; more than the maximum is refused. */
function pageLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) return DEFAULT_PAGE_LIMIT;
  if (limit > MAX_PAGE_LIMIT) throw new HttpError(400, `limit ${limit} exceeds the maximum of ${MAX_PAGE_LIMIT}`);
  return limit;
}

function searchAfter(sa: unknown): { ms: number; id: string } | undefined {
  if (sa === undefined) return undefined;
  if (!Array.isArray(sa) || sa.length !== 2 || typeof sa[0] !== 'number' || typeof sa[1] !== 'string') {
    throw new HttpError(400, 'invalid search_after: send the X-Search_after header of the previous answer verbatim');
  }
  return { ms: sa[0], id: sa[1] };
}

/** The events a query keeps: its search_term, and without provider activity when exclude_provider_activity. */
function matcher(body: Record<string, unknown>, ctx: QueryContext): ((s: Skeleton) => boolean) | undefined {
  const term = searchTerm(body.search_term, ctx.searchTerm);
  const exclude = body.exclude_provider_activity;
  if (exclude !== undefined && typeof exclude !== 'boolean') {
    throw new HttpError(400, `exclude_provider_activity must be true or false (got ${JSON.stringify(exclude)})`);
  }
  const store = ctx.store;
  const byTerm =
    term &&
    ((s: Skeleton) => {
      let parsed: Record<string, unknown> | undefined;
      return term({ s, event: () => (parsed ??= JSON.parse(store.text(s)) as Record<string, unknown>) });
    });
  if (!exclude) return byTerm;
  return byTerm ? (s) => !store.isProviderActivity(s) && byTerm(s) : (s) => !store.isProviderActivity(s);
}

function searchTerm(term: unknown, mode: SearchTermMode): ReturnType<typeof compileSearchTerm> {
  if (term !== undefined && mode === 'refuse') throw new HttpError(400, 'search_term is not supported');
  if (term !== undefined && mode === 'fail') throw new HttpError(500, 'Technical difficulties processing your request');
  try {
    return mode === 'ignore' ? undefined : compileSearchTerm(term);
  } catch (err) {
    if (err instanceof SearchTermError) throw new HttpError(400, err.message);
    throw err;
  }
}
