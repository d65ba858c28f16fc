// Prometheus metrics and stream health of one collector process. The engine calls the small object API
// (`metrics.eventsForwarded(org, service, n)`); the network clients feed it through the DiHooks / ForwardHooks
// built here, so neither client knows about prom-client.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineMetrics, ServiceCoverageEntry } from './collector/metrics.js';
import type { Clock, DiHooks, ForwardHooks } from './types.js';

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
  return new PromMetrics(options);
}

/** The Prometheus metrics of a collector process (one registry each: tests run several in one process). */
function instruments(registry: Registry, lag: (gauge: Gauge) => void) {
  const registers = [registry];
  const streamLabels = ['org', 'service'] as const;
  const counter = (name: string, help: string, labelNames: readonly string[] = streamLabels): Counter =>
    new Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: readonly string[] = streamLabels): Gauge =>
    new Gauge({ name, help, labelNames, registers });
  new Gauge({
    name: 'jumpcloud_lag_seconds',
    help: 'Seconds between now and the persisted checkpoint of the stream',
    labelNames: streamLabels,
    registers,
    collect() {
      lag(this);
    },
  });
  return {
    fetched: counter('jumpcloud_events_fetched_total', 'Events received from the Directory Insights API'),
    forwarded: counter('jumpcloud_events_forwarded_total', 'Events acknowledged by Fluent Bit'),
    duplicates: counter(
      'jumpcloud_events_duplicate_skipped_total',
      'Events skipped because their id was already forwarded (overlap re-scan)',
    ),
    lastSuccess: gauge(
      'jumpcloud_last_success_timestamp_seconds',
      'Time of the last completed poll of the stream (Unix seconds)',
    ),
    retries: counter(
      'jumpcloud_api_retries_total',
      'Retried API requests by reason (429, 503, 5xx, timeout, reset, bad_body…)',
      ['reason'],
    ),
    apiErrors: counter('jumpcloud_api_errors_total', 'API answers with an error status, by status', ['status']),
    reconnects: counter('jumpcloud_forward_reconnects_total', 'Reconnections to Fluent Bit', []),
    inflight: gauge('jumpcloud_forward_inflight_chunks', 'Chunks sent to Fluent Bit and not yet acknowledged', []),
    chunksAcked: counter('jumpcloud_forward_chunks_acked_total', 'Chunks acknowledged by Fluent Bit', []),
    refetches: counter(
      'jumpcloud_completeness_refetch_total',
      'Windows fetched again because /events/count disagreed with the events received',
    ),
    incomplete: counter(
      'jumpcloud_window_incomplete_total',
      'Windows whose event count still disagreed with /events/count after the re-fetch',
    ),
    unsettled: counter(
      'jumpcloud_unsettled_refetch_total',
      "Polls run again at once because Fluent Bit's connection closed within the ack settle time of events it " +
        'had acked (they may not have been stored)',
    ),
    serviceCollected: gauge(
      'jumpcloud_service_collected',
      '1 per service collected with --services all, by reason: configured (all itself), via_all (returned by ' +
        'all), missed_by_all (named in the all query; its earlier events by a catch-up stream)',
      ['org', 'service', 'reason'],
    ),
    failed: gauge('jumpcloud_stream_failed', '1 when the stream stopped on a fatal error (bad key, DI not licensed…)'),
  };
}

const labels = (s: StreamState) => ({ org: s.org, service: s.service });

class PromMetrics implements CollectorMetrics {
  readonly registry = new Registry();
  readonly contentType: string;
  private readonly clock: Clock;
  private readonly createdMs: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly m: ReturnType<typeof instruments>;
  private services: readonly ServiceCoverageEntry[] | undefined;

  constructor(private readonly options: MetricsOptions) {
    this.clock = options.clock;
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.contentType = this.registry.contentType;
    this.createdMs = this.clock.now();
    this.m = instruments(this.registry, (gauge) => {
      const now = this.clock.now();
      for (const s of this.streams.values()) {
        if (s.checkpointMs !== undefined) gauge.set(labels(s), Math.max(0, (now - s.checkpointMs) / 1000));
      }
    });
  }

  private stream(org: string | undefined, service: string): StreamState {
    const o = orgLabel(org);
    const key = `${o}\u0000${service}`;
    let s = this.streams.get(key);
    if (!s) {
      s = { org: o, service, startedMs: this.clock.now() };
      this.streams.set(key, s);
    }
    return s;
  }

  eventsFetched(org: string | undefined, service: string, n: number): void {
    this.m.fetched.inc(labels(this.stream(org, service)), n);
  }

  eventsForwarded(org: string | undefined, service: string, n: number): void {
    const s = this.stream(org, service);
    this.m.forwarded.inc(labels(s), n);
    if (n > 0) s.lastProgressMs = this.clock.now();
  }

  duplicatesSkipped(org: string | undefined, service: string, n: number): void {
    this.m.duplicates.inc(labels(this.stream(org, service)), n);
  }

  checkpoint(org: string | undefined, service: string, checkpointMs: number): void {
    this.stream(org, service).checkpointMs = checkpointMs;
  }

  success(org: string | undefined, service: string, atMs?: number): void {
    const s = this.stream(org, service);
    s.lastSuccessMs = atMs ?? this.clock.now();
    s.waiting = undefined;
    this.m.lastSuccess.set(labels(s), s.lastSuccessMs / 1000);
  }

  streamFailed(org: string | undefined, service: string, reason: string): void {
    const s = this.stream(org, service);
    s.error = reason;
    this.m.failed.set(labels(s), 1);
  }

  streamWaiting(org: string | undefined, service: string, reason: string | undefined): void {
    this.stream(org, service).waiting = reason;
  }

  streamStarted(org: string | undefined, service: string): void {
    this.m.failed.set(labels(this.stream(org, service)), 0);
  }

  apiRetry(reason: string): void {
    this.m.retries.inc({ reason });
  }

  apiError(status: number): void {
    this.m.apiErrors.inc({ status: String(status) });
  }

  forwardReconnect(): void {
    this.m.reconnects.inc();
  }

  forwardInflight(chunks: number): void {
    this.m.inflight.set(chunks);
  }

  forwardChunkAcked(_entries: number): void {
    this.m.chunksAcked.inc();
  }

  completenessRefetch(org: string | undefined, service: string): void {
    this.m.refetches.inc(labels(this.stream(org, service)));
  }

  windowIncomplete(org: string | undefined, service: string): void {
    this.m.incomplete.inc(labels(this.stream(org, service)));
  }

  unsettledRefetch(org: string | undefined, service: string): void {
    this.m.unsettled.inc(labels(this.stream(org, service)));
  }

  servicesCollected(entries: readonly ServiceCoverageEntry[]): void {
    this.services = entries.map((e) => ({ ...e, org: orgLabel(e.org) }));
    this.m.serviceCollected.reset();
    for (const e of entries) {
      this.m.serviceCollected.set({ org: orgLabel(e.org), service: e.service, reason: e.reason }, 1);
    }
  }

  streamRetired(org: string | undefined, service: string): void {
    this.streams.delete(`${orgLabel(org)}\u0000${service}`);
  }

  health(): HealthReport {
    const { staleAfterMs } = this.options;
    const now = this.clock.now();
    const list = [...this.streams.values()].map((s) => streamHealth(s, now, staleAfterMs));
    const starting = list.length === 0 && now - this.createdMs <= staleAfterMs;
    const healthy =
      starting ||
      (this.options.idle === true && list.length === 0) ||
      (list.length > 0 && list.every((s) => s.status === 'ok' || s.status === 'starting'));
    const begun = list.length > 0 && !list.some((s) => s.status === 'starting');
    return {
      healthy,
      status: healthy ? (begun ? 'ok' : 'starting') : 'degraded',
      now: new Date(now).toISOString(),
      staleAfterSeconds: staleAfterMs / 1000,
      streams: list,
      ...(this.services ? { services: this.services } : {}),
    };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

function streamHealth(s: StreamState, now: number, staleAfterMs: number): StreamHealth {
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

/**
 * Hooks for the DI client: retries by reason, error answers by status. (Fetched events are counted by the engine,
 * per org: a page of a query of several orgs holds the events of each.)
 */
export function diHooks(metrics: CollectorMetrics): DiHooks {
  return {
    onRetry: ({ reason }) => metrics.apiRetry(reason),
    onApiError: ({ status }) => metrics.apiError(status),
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
