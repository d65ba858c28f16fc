import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, diHooks, forwardHooks, type CollectorMetrics } from '../../../input/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../../input/metrics-server.js';
import type { Clock } from '../../../input/types.js';

function manualClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, sleep: async () => undefined, advance: (ms) => void (now += ms) };
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (d: string) => (body += d))
        .on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject).end();
  });
}

const NAMES = [
  'jumpcloud_events_fetched_total',
  'jumpcloud_events_forwarded_total',
  'jumpcloud_events_duplicate_skipped_total',
  'jumpcloud_lag_seconds',
  'jumpcloud_api_retries_total',
  'jumpcloud_api_errors_total',
  'jumpcloud_last_success_timestamp_seconds',
  'jumpcloud_forward_reconnects_total',
  'jumpcloud_forward_inflight_chunks',
  'jumpcloud_completeness_refetch_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
];

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function feed(metrics: CollectorMetrics): void {
  const q = { service: 'directory', start: '2026-03-01T00:00:00Z', end: '2026-03-01T01:00:00Z', orgIds: ['org1'] };
  const dh = diHooks(metrics);
  metrics.eventsFetched('org1', 'directory', 7); // the engine counts fetched events per org of a batch
  dh.onRetry!({ reason: '429', status: 429, delayMs: 10, query: q });
  dh.onApiError!({ status: 503, query: q });
  const fh = forwardHooks(metrics);
  fh.onReconnect!({ attempt: 1, delayMs: 100 });
  fh.onAck!({ chunk: 'c1', entries: 7 });
  metrics.eventsForwarded('org1', 'directory', 5);
  metrics.duplicatesSkipped('org1', 'directory', 2);
  metrics.completenessRefetch('org1', 'directory');
  metrics.unsettledRefetch('org1', 'directory');
  metrics.forwardInflight(3);
}

describe('metrics', () => {
  it('counts what the hooks and the engine report, with org and service labels', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const metrics = createMetrics({ clock, staleAfterMs: 300_000 });
    feed(metrics);
    metrics.checkpoint('org1', 'directory', clock.now() - 150_000);
    metrics.checkpoint(undefined, 'sso', clock.now() - 30_000);
    metrics.success('org1', 'directory');
    const text = await metrics.render();
    for (const name of NAMES) expect(text).toContain(name);
    expect(text).toContain('jumpcloud_events_fetched_total{org="org1",service="directory"} 7');
    expect(text).toContain('jumpcloud_events_forwarded_total{org="org1",service="directory"} 5');
    expect(text).toContain('jumpcloud_events_duplicate_skipped_total{org="org1",service="directory"} 2');
    expect(text).toContain('jumpcloud_api_retries_total{reason="429"} 1');
    expect(text).toContain('jumpcloud_api_errors_total{status="503"} 1');
    expect(text).toContain('jumpcloud_forward_reconnects_total 1');
    expect(text).toContain('jumpcloud_forward_inflight_chunks 3');
    expect(text).toContain('jumpcloud_completeness_refetch_total{org="org1",service="directory"} 1');
    expect(text).toContain('jumpcloud_unsettled_refetch_total{org="org1",service="directory"} 1');
    expect(text).toContain('jumpcloud_lag_seconds{org="org1",service="directory"} 150');
    expect(text).toContain('jumpcloud_lag_seconds{org="default",service="sso"} 30');
    expect(text).toContain(
      `jumpcloud_last_success_timestamp_seconds{org="org1",service="directory"} ${clock.now() / 1000}`,
    );
    // Lag is computed at scrape time.
    clock.advance(60_000);
    expect(await metrics.render()).toContain('jumpcloud_lag_seconds{org="org1",service="directory"} 210');
  });

  it('is healthy while streams succeed, stale or failed otherwise', () => {
    const clock = manualClock(0);
    const metrics = createMetrics({ clock, staleAfterMs: 300_000, defaultMetrics: false });
    expect(metrics.health()).toMatchObject({ healthy: true, status: 'starting', streams: [] });
    metrics.streamStarted('o', 'sso');
    expect(metrics.health()).toMatchObject({ healthy: true, status: 'starting' });
    metrics.success('o', 'sso');
    expect(metrics.health()).toMatchObject({
      healthy: true,
      status: 'ok',
      streams: [{ org: 'o', service: 'sso', status: 'ok' }],
    });
    clock.advance(299_000);
    expect(metrics.health().healthy).toBe(true);
    clock.advance(2_000);
    expect(metrics.health()).toMatchObject({ healthy: false, status: 'degraded', streams: [{ status: 'stale' }] });
    metrics.success('o', 'sso');
    expect(metrics.health().healthy).toBe(true);
    metrics.streamFailed('o', 'directory', '401: the API key was refused');
    expect(metrics.health()).toMatchObject({
      healthy: false,
      streams: [{ status: 'ok' }, { status: 'failed', error: '401: the API key was refused' }],
    });
  });

  it('counts acked batches as progress, so a long backfill stays healthy', () => {
    const clock = manualClock(0);
    const metrics = createMetrics({ clock, staleAfterMs: 1000, defaultMetrics: false });
    metrics.streamStarted('', 'all');
    for (let i = 0; i < 5; i++) {
      clock.advance(900);
      metrics.eventsForwarded('', 'all', 100);
      expect(metrics.health()).toMatchObject({ healthy: true, streams: [{ org: 'default', status: 'ok' }] });
    }
    clock.advance(1001);
    expect(metrics.health()).toMatchObject({ healthy: false, streams: [{ status: 'stale' }] });
  });

  it('a waiting stream (checkpoint later than now) is unhealthy and says why, until its next completed poll', () => {
    const clock = manualClock(0);
    const metrics = createMetrics({ clock, staleAfterMs: 60_000, defaultMetrics: false });
    metrics.streamStarted('', 'all');
    metrics.success('', 'all');
    metrics.streamWaiting('', 'all', 'checkpoint 2027-01-01T00:00:00.000Z in /s/_default/all.json is later than now');
    expect(metrics.health()).toMatchObject({
      healthy: false,
      status: 'degraded',
      streams: [{ status: 'waiting', reason: expect.stringContaining('later than now') }],
    });
    clock.advance(1000);
    metrics.success('', 'all');
    expect(metrics.health()).toMatchObject({ healthy: true, status: 'ok', streams: [{ status: 'ok' }] });
    expect(metrics.health().streams[0]).not.toHaveProperty('reason');
  });

  it('is unhealthy when no stream ever reported within the bound', () => {
    const clock = manualClock(0);
    const metrics = createMetrics({ clock, staleAfterMs: 1000, defaultMetrics: false });
    clock.advance(1001);
    expect(metrics.health().healthy).toBe(false);
  });
});

describe('services collected', () => {
  it('jumpcloud_service_collected and /healthz name every service and why; a retired catch-up stream leaves health', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const metrics = createMetrics({ clock, staleAfterMs: 300_000, defaultMetrics: false });
    metrics.streamStarted(undefined, 'all');
    metrics.streamStarted(undefined, 'password_manager');
    metrics.servicesCollected([
      { org: '', service: 'all', reason: 'configured' },
      { org: '', service: 'directory', reason: 'via_all' },
      {
        org: '',
        service: 'password_manager',
        reason: 'missed_by_all',
        handover: '2026-03-01T11:00:00.000Z',
        catchingUp: true,
      },
    ]);
    const text = await metrics.render();
    expect(text).toContain(
      'jumpcloud_service_collected{org="default",service="password_manager",reason="missed_by_all"} 1',
    );
    expect(text).toContain('jumpcloud_service_collected{org="default",service="directory",reason="via_all"} 1');
    expect(metrics.health().services).toEqual([
      { org: 'default', service: 'all', reason: 'configured' },
      { org: 'default', service: 'directory', reason: 'via_all' },
      {
        org: 'default',
        service: 'password_manager',
        reason: 'missed_by_all',
        handover: '2026-03-01T11:00:00.000Z',
        catchingUp: true,
      },
    ]);
    // A later report replaces the earlier one (directory no longer seen), and the retired stream is no longer polled.
    metrics.servicesCollected([
      { org: '', service: 'all', reason: 'configured' },
      {
        org: '',
        service: 'password_manager',
        reason: 'missed_by_all',
        handover: '2026-03-01T11:00:00.000Z',
        catchingUp: false,
      },
    ]);
    metrics.streamRetired(undefined, 'password_manager');
    expect(await metrics.render()).not.toContain('service="directory",reason="via_all"');
    expect(metrics.health().streams.map((s) => s.service)).toEqual(['all']);
    clock.advance(10 * 60_000);
    metrics.success(undefined, 'all');
    expect(metrics.health().healthy).toBe(true);
  });
});

describe('metrics server', () => {
  it('serves /metrics and /healthz (200, then 503 when a stream fails)', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const metrics = createMetrics({ clock, staleAfterMs: 300_000 });
    feed(metrics);
    metrics.success('org1', 'directory');
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics });
    expect(server.port).toBeGreaterThan(0);
    const m = await get(server.port, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/text\/plain/);
    for (const name of NAMES) expect(m.body).toContain(name);
    const ok = await get(server.port, '/healthz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ healthy: true, status: 'ok' });
    metrics.streamFailed('org1', 'sso', 'DI not licensed (402)');
    const bad = await get(server.port, '/healthz');
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body).streams).toContainEqual(expect.objectContaining({ service: 'sso', status: 'failed' }));
    expect((await get(server.port, '/nope')).status).toBe(404);
    expect((await get(server.port, '/metrics', 'POST')).status).toBe(405);
    expect((await get(server.port, '/healthz', 'HEAD')).status).toBe(503);
  });

  it('says which port is in use', async () => {
    const metrics = createMetrics({ clock: manualClock(0), staleAfterMs: 1000, defaultMetrics: false });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics });
    await expect(startMetricsServer({ host: '127.0.0.1', port: server.port, metrics })).rejects.toThrow(
      /EADDRINUSE.*--metrics-port/,
    );
  });
});
