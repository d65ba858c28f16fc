// The answers of the query routes (/events with its paging headers; /events/count, /interval, /distinct) and the
// injected faults that replace them.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Clock } from '../types.js';
import { distinctBuckets, intervalBuckets } from './aggregations.js';
import type { EventStore } from './events.js';
import type { FaultKind, FaultPlan } from './faults.js';
import type { Responder } from './http.js';
import type { Query } from './query.js';

export interface SimulatorStats {
  /** Answers by route and status, e.g. requests['/events']['200']. */
  readonly requests: Record<string, Record<string, number>>;
  readonly faults: Partial<Record<FaultKind, number>>;
  /** Events served in /events answers (faulty ones excluded). */
  events: number;
  pages: number;
}

export interface RouteContext {
  readonly store: EventStore;
  readonly responder: Responder;
  readonly faults: FaultPlan;
  readonly stats: SimulatorStats;
  readonly clock: Clock;
  /** Real (wall-clock) delay before each /events answer. */
  readonly pageLatencyMs?: number;
}

/** A page of /events with X-Result-Count, X-Limit, X-Sort, X-Request-Id and X-Search_after. */
export async function answerEvents(c: RouteContext, res: ServerResponse, q: Query, fault?: FaultKind): Promise<void> {
  const page = c.store.scan(q, q.limit);
  if (c.pageLatencyMs) await new Promise((r) => setTimeout(r, c.pageLatencyMs));
  const body = c.store.page(page);
  const last = page[page.length - 1];
  const headers: Record<string, string> = {
    'X-Result-Count': String(page.length),
    'X-Limit': String(q.limit),
    'X-Sort': 'ASC',
    'X-Request-Id': randomUUID(),
  };
  const cursor = last ? JSON.stringify([last.ms, last.id]) : q.rawAfter;
  if (cursor) headers['X-Search_after'] = cursor;
  if (fault === 'truncated') return truncate(c, res, '/events', body, headers);
  c.stats.events += page.length;
  c.stats.pages++;
  c.responder.send(res, '/events', 200, body, headers);
}

/** /events/count, /events/interval, /events/distinct. */
export function answerAggregate(
  c: RouteContext,
  res: ServerResponse,
  route: string,
  q: Query,
  fault?: FaultKind,
): void {
  const answer =
    route === '/events/count'
      ? { count: c.store.count(q) }
      : route === '/events/interval'
        ? intervalBuckets(c.store, q, q.body)
        : q.body.field === 'service'
          ? serviceBuckets(c.store, q)
          : distinctBuckets(c.store, q, q.body);
  const body = JSON.stringify(answer);
  if (fault === 'truncated') return truncate(c, res, route, body, {});
  c.responder.send(res, route, 200, body);
}

/** `/events/distinct` of field `service`, counted per stream (no event is parsed); any other field: aggregations.ts. */
function serviceBuckets(store: EventStore, q: Query): object {
  const counts = new Map<string, number>();
  for (const i of q.streams) {
    const n = store.count({ ...q, streams: [i] });
    if (n > 0) counts.set(store.serviceOf(i), (counts.get(store.serviceOf(i)) ?? 0) + n);
  }
  const buckets = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([key, doc_count]) => ({ key, doc_count }));
  return { buckets, doc_count_error_upper_bound: 0, sum_other_doc_count: 0 };
}

function truncate(
  c: RouteContext,
  res: ServerResponse,
  route: string,
  text: Buffer | string,
  headers: Record<string, string>,
): void {
  const body = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const cut = body.subarray(0, Math.floor(body.length / 2));
  c.responder.count(route, 'truncated');
  if (c.faults.coin()) {
    // The connection dies mid-body: fewer bytes than Content-Length.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, ...headers });
    res.write(cut, () => res.socket?.destroy());
  } else {
    // A complete HTTP answer whose JSON stops halfway (a proxy cut it).
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': cut.length, ...headers });
    res.end(cut);
  }
}

/** Answers with the fault instead of the route; false for `truncated`, which needs the real answer. */
export function injectFault(c: RouteContext, res: ServerResponse, route: string, kind: FaultKind): boolean {
  c.stats.faults[kind] = (c.stats.faults[kind] ?? 0) + 1;
  const send = c.responder.send.bind(c.responder);
  switch (kind) {
    case '429':
      send(res, route, 429, { message: 'Too Many Requests' });
      return true;
    case '429-retry-after': {
      const secs = 1 + (c.faults.coin() ? 1 : 0);
      const value = c.faults.coin() ? String(secs) : new Date(c.clock.now() + secs * 1000 + 999).toUTCString();
      send(res, route, 429, { message: 'Too Many Requests' }, { 'Retry-After': value });
      return true;
    }
    case '503':
      send(res, route, 503, { message: 'Service Unavailable' }, c.faults.coin() ? { 'Retry-After': '1' } : {});
      return true;
    case '500':
      send(res, route, 500, { message: 'Technical difficulties processing your request' });
      return true;
    case 'reset':
      c.responder.count(route, 'reset');
      res.socket?.resetAndDestroy();
      return true;
    case 'timeout':
      c.responder.count(route, 'timeout'); // never answers; the client times out, close() ends the socket
      return true;
    case 'not-array':
      if (c.faults.coin()) {
        send(res, route, 200, '<html><body><h1>502 Bad Gateway</h1></body></html>', { 'content-type': 'text/html' });
      } else send(res, route, 200, { message: 'internal error' });
      return true;
    case 'truncated':
      return false;
  }
}
