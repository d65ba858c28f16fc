// Prometheus metrics and stream health of one collector process. The engine calls the small object API
// (`metrics.eventsForwarded(org, service, n)`); the network clients feed it through the DiHooks / ForwardHooks
// built here, so neither client knows about prom-client.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineMetrics, ServiceCoverageEntry } from './collector/metrics.js';
import type { Clock, DiHooks, DiQuery, ForwardHooks } from './types.js';

/** Label value for a stream without `x-org-id` (single-org API key). */
const NO_ORG = 'default';

function orgLabel(org: string | undefined): string {
  return org === undefined || org === '' ? NO_ORG : org;
}

export interface StreamHealth {
  readonly org: string;
  readonly service: string;
  /** waiting: nothing can be fetched yet, for the `reason` given (a checkpoint later than now). */
  readonly status: 'ok' | 'starting' | 'stale' | 'failed' | 'waiting';
  /** Why the stream is waiting. */
  readonly reason?: string;
  /** ISO time of the last completed poll. */
  readonly lastSuccess?: string;
  /** ISO time of the last batch acked by Fluent Bit. */
  readonly lastForwarded?: string;
  /** now − checkpoint, seconds. */
  readonly lagSeconds?: number;
  readonly error?: string;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly status: 'ok' | 'starting' | 'degraded';
  readonly now: string;
  readonly staleAfterSeconds: number;
  readonly streams: readonly StreamHealth[];
  /** With --services all: every service collected and why (see services.ts). */
  readonly services?: readonly ServiceCoverageEntry[];
}

/** The engine's metrics (collector/metrics.ts), and what the clients' hooks and the HTTP endpoint need. */
export interface CollectorMetrics extends Required<EngineMetrics> {
  readonly registry: Registry;
  /** Events received from the API. Fed by `diHooks().onPage`; call it directly only when not using the hooks. */
  eventsFetched(org: string | undefined, service: string, n: number): void;
  apiRetry(reason: string): void;
  apiError(status: number): void;
  forwardReconnect(): void;
  forwardInflight(chunks: number): void;
  forwardChunkAcked(entries: number): void;
  health(): HealthReport;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  readonly clock: Clock;
  /** A stream without success for this long is stale (health 503). */
  readonly staleAfterMs: number;
  /** Process metrics (CPU, RSS, event loop lag…); default true. */
  readonly defaultMetrics?: boolean;
  /** No stream to run (a --shard none of the orgs falls in): healthy while idle, not "no stream ever succeeded". */
  readonly idle?: boolean;
}

interface StreamState {
  org: string;
  service: string;
  startedMs: number;
  checkpointMs?: number;
  lastSuccessMs?: number;
  /** Last batch acked by Fluent Bit: a long backfill completes no poll for a while but keeps delivering. */
  lastProgressMs?: number;
  error?: string;
  waiting?: string;
}

export function createMetrics(options: MetricsOptions): CollectorMetrics {
  const { clock, staleAfterMs } = options;
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const createdMs = clock.now();
  const streams = new Map<string, StreamState>();

  const stream = (org: string | undefined, service: string): StreamState => {
    const o = orgLabel(org);
    const key = `${o}\u0000${service}`;
    let s = streams.get(key);
    if (!s) {
      s = { org: o, service, startedMs: clock.now() };
      streams.set(key, s);
    }
    return s;
  };

  const registers = [registry];
  const streamLabels = ['org', 'service'] as const;
  const fetched = new Counter({ name: 'jumpcloud_events_fetched_total', help: 'Events received from the Directory Insights API', labelNames: streamLabels, registers });
  const forwarded = new Counter({ name: 'jumpcloud_events_forwarded_total', help: 'Events acknowledged by Fluent Bit', labelNames: streamLabels, registers });
  const duplicates = new Counter({ name: 'jumpcloud_events_duplicate_skipped_total', help: 'Events skipped because their id was already forwarded (overlap re-scan)', labelNames: streamLabels, registers });
  new Gauge({
    name: 'jumpcloud_lag_seconds',
    help: 'Seconds between now and the persisted checkpoint of the stream',
    labelNames: streamLabels,
    registers,
    collect() {
      const now = clock.now();
      for (const s of streams.values()) {
        if (s.checkpointMs !== undefined) this.set({ org: s.org, service: s.service }, Math.max(0, (now - s.checkpointMs) / 1000));
      }
    },
  });
  const lastSuccess = new Gauge({ name: 'jumpcloud_last_success_timestamp_seconds', help: 'Time of the last completed poll of the stream (Unix seconds)', labelNames: streamLabels, registers });
  const retries = new Counter({ name: 'jumpcloud_api_retries_total', help: 'Retried API requests by reason (429, 503, 5xx, timeout, reset, bad_body…)', labelNames: ['reason'], registers });
  const apiErrors = new Counter({ name: 'jumpcloud_api_errors_total', help: 'API answers with an error status, by status', labelNames: ['status'], registers });
  const reconnects = new Counter({ name: 'jumpcloud_forward_reconnects_total', help: 'Reconnections to Fluent Bit', registers });
  const inflight = new Gauge({ name: 'jumpcloud_forward_inflight_chunks', help: 'Chunks sent to Fluent Bit and not yet acknowledged', registers });
  const chunksAcked = new Counter({ name: 'jumpcloud_forward_chunks_acked_total', help: 'Chunks acknowledged by Fluent Bit', registers });
  const refetches = new Counter({ name: 'jumpcloud_completeness_refetch_total', help: 'Windows fetched again because /events/count disagreed with the events received', labelNames: streamLabels, registers });
  const incomplete = new Counter({ name: 'jumpcloud_window_incomplete_total', help: 'Windows whose event count still disagreed with /events/count after the re-fetch', labelNames: streamLabels, registers });
  const unsettled = new Counter({ name: 'jumpcloud_unsettled_refetch_total', help: 'Polls run again at once because Fluent Bit\'s connection closed within the ack settle time of events it had acked (they may not have been stored)', labelNames: streamLabels, registers });
  const serviceCollected = new Gauge({ name: 'jumpcloud_service_collected', help: '1 per service collected with --services all, by reason: configured (all itself), via_all (returned by all), missed_by_all (named in the all query; its earlier events by a catch-up stream)', labelNames: ['org', 'service', 'reason'], registers });
  let services: readonly ServiceCoverageEntry[] | undefined;
  const failed = new Gauge({ name: 'jumpcloud_stream_failed', help: '1 when the stream stopped on a fatal error (bad key, DI not licensed…)', labelNames: streamLabels, registers });

  const labels = (s: StreamState) => ({ org: s.org, service: s.service });

  function streamHealth(s: StreamState, now: number): StreamHealth {
    const base = {
      org: s.org,
      service: s.service,
      ...(s.lastSuccessMs !== undefined ? { lastSuccess: new Date(s.lastSuccessMs).toISOString() } : {}),
      ...(s.lastProgressMs !== undefined ? { lastForwarded: new Date(s.lastProgressMs).toISOString() } : {}),
      ...(s.checkpointMs !== undefined ? { lagSeconds: Math.max(0, Math.round((now - s.checkpointMs) / 1000)) } : {}),
    };
    if (s.error !== undefined) return { ...base, status: 'failed', error: s.error };
    if (s.waiting !== undefined) return { ...base, status: 'waiting', reason: s.waiting };
    const since = Math.max(s.lastSuccessMs ?? s.startedMs, s.lastProgressMs ?? 0);
    if (now - since > staleAfterMs) return { ...base, status: 'stale' };
    return { ...base, status: s.lastSuccessMs === undefined && s.lastProgressMs === undefined ? 'starting' : 'ok' };
  }

  return {
    registry,
    contentType: registry.contentType,
    eventsFetched(org, service, n) {
      fetched.inc(labels(stream(org, service)), n);
    },
    eventsForwarded(org, service, n) {
      const s = stream(org, service);
      forwarded.inc(labels(s), n);
      if (n > 0) s.lastProgressMs = clock.now();
    },
    duplicatesSkipped(org, service, n) {
      duplicates.inc(labels(stream(org, service)), n);
    },
    checkpoint(org, service, checkpointMs) {
      stream(org, service).checkpointMs = checkpointMs;
    },
    success(org, service, atMs) {
      const s = stream(org, service);
      s.lastSuccessMs = atMs ?? clock.now();
      s.waiting = undefined;
      lastSuccess.set(labels(s), s.lastSuccessMs / 1000);
    },
    streamFailed(org, service, reason) {
      const s = stream(org, service);
      s.error = reason;
      failed.set(labels(s), 1);
    },
    streamWaiting(org, service, reason) {
      stream(org, service).waiting = reason;
    },
    streamStarted(org, service) {
      const s = stream(org, service);
      failed.set(labels(s), 0);
    },
    apiRetry(reason) {
      retries.inc({ reason });
    },
    apiError(status) {
      apiErrors.inc({ status: String(status) });
    },
    forwardReconnect() {
      reconnects.inc();
    },
    forwardInflight(chunks) {
      inflight.set(chunks);
    },
    forwardChunkAcked(_entries) {
      chunksAcked.inc();
    },
    completenessRefetch(org, service) {
      refetches.inc(labels(stream(org, service)));
    },
    windowIncomplete(org, service) {
      incomplete.inc(labels(stream(org, service)));
    },
    unsettledRefetch(org, service) {
      unsettled.inc(labels(stream(org, service)));
    },
    servicesCollected(entries) {
      services = entries.map((e) => ({ ...e, org: orgLabel(e.org) }));
      serviceCollected.reset();
      for (const e of entries) serviceCollected.set({ org: orgLabel(e.org), service: e.service, reason: e.reason }, 1);
    },
    streamRetired(org, service) {
      streams.delete(`${orgLabel(org)}\u0000${service}`);
    },
    health() {
      const now = clock.now();
      const list = [...streams.values()].map((s) => streamHealth(s, now));
      const starting = list.length === 0 && now - createdMs <= staleAfterMs;
      const healthy = starting || (options.idle === true && list.length === 0) || (list.length > 0 && list.every((s) => s.status === 'ok' || s.status === 'starting'));
      return {
        healthy,
        status: healthy ? (list.length === 0 || list.some((s) => s.status === 'starting') ? 'starting' : 'ok') : 'degraded',
        now: new Date(now).toISOString(),
        staleAfterSeconds: staleAfterMs / 1000,
        streams: list,
        ...(services ? { services } : {}),
      };
    },
    render() {
      return registry.metrics();
    },
  };
}

function queryOrg(query: DiQuery): string | undefined {
  return query.orgId;
}

/** Hooks for the DI client: pages count as fetched events, retries by reason, error answers by status. */
export function diHooks(metrics: CollectorMetrics): DiHooks {
  return {
    onRetry: ({ reason }) => metrics.apiRetry(reason),
    onApiError: ({ status }) => metrics.apiError(status),
    onPage: ({ events, query }) => metrics.eventsFetched(queryOrg(query), query.service, events),
  };
}

/**
 * Hooks for the forward client: reconnects and acked chunks. `onInflight` is not (yet) part of ForwardHooks in
 * types.ts; a client that reports its unacked chunk count through it feeds jumpcloud_forward_inflight_chunks.
 */
export function forwardHooks(metrics: CollectorMetrics): ForwardHooks & { onInflight(chunks: number): void } {
  return {
    onAck: ({ entries }) => metrics.forwardChunkAcked(entries),
    onReconnect: () => metrics.forwardReconnect(),
    onInflight: (chunks) => metrics.forwardInflight(chunks),
  };
}

/** Default staleness bound for /healthz: several missed polls, never less than 5 minutes. */
export function defaultStaleAfterMs(intervalMs: number, requestTimeoutMs: number): number {
  return Math.max(5 * 60_000, 3 * intervalMs + 2 * requestTimeoutMs);
}
