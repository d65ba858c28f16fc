// --fluent-bit-http auto (the default): when --forward is the shipped forward port on loopback, the collector tries
// the shipped pipeline's HTTP server and uses it only when a Fluent Bit there lists its input; otherwise it says why
// once and runs as without. The address is the shipped 127.0.0.1:2020 in production (the config test below); here
// each case points `auto` at a port of its own (the machine is shared), which is what the config hands the run.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '../../../input/collector/engine/run.js';
import { probeShippedHttp } from '../../../input/collector/oracle/probe.js';
import { loadConfig } from '../../../input/config.js';
import { startSimulator } from '../../../input/simulator/server.js';
import type { CollectorConfig } from '../../../input/types.js';
import { compareIds, expectNoLoss, expectedIds } from '../../support/collector.js';
import { manualClock, memoryLogger } from '../../support/fakes.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { freePort } from '../../system/e2e/pipeline-harness.js';

const MIN = 60_000;
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('--fluent-bit-http: the default is auto', () => {
  const load = (argv: string[], env: Record<string, string> = {}) => {
    const r = loadConfig({ argv: ['--api-key', 'k1234', ...argv], env, now: Date.now(), cwd: tmpdir() });
    if (r.kind !== 'run') throw new Error('expected a run config');
    return r.config;
  };

  it('tries the shipped 127.0.0.1:2020 when --forward is the shipped port 24224 on loopback', () => {
    for (const forward of [[], ['--forward', '127.0.0.1:24224'], ['--forward', 'localhost:24224']]) {
      expect(load(forward).fluentBitHttp, forward.join(' ')).toEqual({ host: '127.0.0.1', port: 2020, auto: true });
      expect(load(forward).fluentBitInput).toBe('jumpcloud_forward');
    }
    expect(load(['--forward', '[::1]:24224']).fluentBitHttp?.auto).toBe(true);
    expect(load([], { FLUENT_BIT_HTTP: 'auto' }).fluentBitHttp?.auto).toBe(true);
  });

  it('not for another host or port (another pipeline names its HTTP server), nor with off', () => {
    for (const forward of ['127.0.0.1:24225', 'fluent-bit:24224', '10.0.0.5:24224', 'unix:/tmp/fb.sock'])
      expect(load(['--forward', forward]).fluentBitHttp, forward).toBeUndefined();
    expect(load(['--fluent-bit-http', 'off']).fluentBitHttp).toBeUndefined();
    expect(load([], { FLUENT_BIT_HTTP: 'off' }).fluentBitHttp).toBeUndefined();
    // An address the user names is theirs: no probe.
    expect(load(['--fluent-bit-http', '127.0.0.1:2021']).fluentBitHttp).toEqual({ host: '127.0.0.1', port: 2021 });
  });
});

/** Listens on 127.0.0.1:port until the test ends. */
async function listen(server: net.Server, port: number): Promise<void> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
}

/** What Fluent Bit's HTTP server answers for the shipped pipeline: its uptime and the forward input's counters. */
function fluentBitHttpServer(): http.Server {
  return http.createServer((req, res) => {
    const body =
      req.url === '/api/v1/uptime'
        ? { uptime_sec: 5 }
        : req.url === '/api/v1/metrics'
          ? { input: { jumpcloud_forward: { records: 0, bytes: 0 } } }
          : undefined;
    if (body) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    else res.writeHead(404).end();
  });
}

/** An HTTP server that is not Fluent Bit's (another service that happens to listen there). */
async function otherServer(status: number, body: string): Promise<number> {
  const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

describe('the probe of the shipped address', () => {
  const probe = (httpPort: number, forwardPort: number) =>
    probeShippedHttp({
      http: { host: '127.0.0.1', port: httpPort },
      input: 'jumpcloud_forward',
      forward: { host: '127.0.0.1', port: forwardPort },
      clock: manualClock(Date.now()),
    });

  it('a Fluent Bit that lists the input: used', async () => {
    const rx = await startForwardReceiver({ httpUptime: true });
    cleanup.push(() => rx.close());
    expect(await probe(rx.httpPort!, rx.port!)).toEqual({ use: true });
  });

  it('nothing answers while the forward input listens: not used, and the warning names both fixes', async () => {
    const rx = await startForwardReceiver({});
    cleanup.push(() => rx.close());
    const v = await probe(await freePort(), rx.port!);
    expect(v.use).toBe(false);
    expect(!v.use && v.reason).toMatch(
      /^--fluent-bit-http auto: nothing answers at http:\/\/127\.0\.0\.1:\d+ .*http_server on.*--fluent-bit-http off/,
    );
  });

  it('nothing at the forward port either: waits for Fluent Bit to start, then uses its HTTP server', async () => {
    // Fluent Bit starts while the probe waits (a pod or a compose file starting both at once): its forward input
    // and its HTTP server come up at the probe's third pause.
    const [forwardPort, httpPort] = [await freePort(), await freePort()];
    const clock = manualClock(Date.now());
    let pauses = 0;
    const starting = {
      ...clock,
      sleep: async (ms: number) => {
        if (++pauses === 3) {
          await listen(
            net.createServer((s) => s.destroy()),
            forwardPort,
          );
          await listen(fluentBitHttpServer(), httpPort);
        }
        await clock.sleep(ms);
      },
    };
    const v = await probeShippedHttp({
      http: { host: '127.0.0.1', port: httpPort },
      input: 'jumpcloud_forward',
      forward: { host: '127.0.0.1', port: forwardPort },
      clock: starting,
    });
    expect(v).toEqual({ use: true });
    expect(pauses).toBeGreaterThanOrEqual(3);
  });

  it('something else answers: not used, and the warning says it is not Fluent Bit', async () => {
    const rx = await startForwardReceiver({});
    cleanup.push(() => rx.close());
    for (const [status, body] of [
      [200, '<html>dashboard</html>'],
      [404, 'not found'],
    ] as const) {
      const v = await probe(await otherServer(status, body), rx.port!);
      expect(v.use).toBe(false);
      expect(!v.use && v.reason, `${status}`).toMatch(
        /^--fluent-bit-http auto: what answers at http:\/\/127\.0\.0\.1:\d+ is not Fluent Bit's HTTP server \(.*\);/,
      );
    }
  });

  it('a Fluent Bit without the input (not the shipped pipeline): not used, not even its uptime', async () => {
    const rx = await startForwardReceiver({ httpUptime: true, inputName: 'forward.0' });
    cleanup.push(() => rx.close());
    const v = await probe(rx.httpPort!, rx.port!);
    expect(v.use).toBe(false);
    expect(!v.use && v.reason).toMatch(
      /is not the shipped pipeline's \(.*lists no input "jumpcloud_forward" \(it has forward\.0, .*`Alias jumpcloud_forward`/,
    );
  });
});

describe('a run with --fluent-bit-http auto', () => {
  /** One --once run against the simulator and the receiver double; `http` is what auto points at. */
  async function run(http: (rx: { httpPort: number | undefined }) => Promise<number>, httpUptime: boolean) {
    const to = Date.now() - 10 * MIN;
    const from = to - 20 * MIN;
    const sim = await startSimulator({
      seed: 31,
      services: ['directory'],
      eventsPerMinute: 60,
      from,
      to,
      indexDelay: { lateFraction: 0 },
    });
    cleanup.push(() => sim.close());
    const rx = await startForwardReceiver({ httpUptime });
    cleanup.push(() => rx.close());
    const stateDir = mkdtempSync(path.join(tmpdir(), 'fb-http-auto-'));
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    const config: CollectorConfig = {
      apiUrl: sim.url,
      auth: { kind: 'apiKey', apiKey: sim.apiKey },
      orgIds: [],
      services: ['directory'],
      pageLimit: 500,
      requestTimeoutMs: 10_000,
      forward: { kind: 'tcp', host: '127.0.0.1', port: rx.port! },
      ackSettleMs: 100,
      fluentBitHttp: { host: '127.0.0.1', port: await http(rx), auto: true },
      fluentBitInput: 'jumpcloud_forward',
      tag: 'jumpcloud.{service}',
      stateDir,
      sinceMs: from,
      lagMs: 2 * MIN,
      overlapMs: 60 * MIN,
      intervalMs: MIN,
      once: true,
      backfillSlices: 1,
      maxSeenIds: 100_000,
    };
    const logger = memoryLogger();
    const result = await runCollector(config, { logger, progressOut: { isTTY: false, write: () => true } });
    expect(result.exitCode).toBe(0);
    const expected = expectedIds(sim, [{ orgId: '', service: 'directory' }], from, to);
    expectNoLoss(compareIds(rx.ids(), expected), expected.size);
    const auto = logger.lines.filter((l) => l.msg?.startsWith('--fluent-bit-http auto'));
    return { auto, ledger: existsSync(path.join(stateDir, 'forward.ledger')) };
  }

  it('answers: used (the forward ledger is kept), said once at info', async () => {
    const r = await run(async (rx) => rx.httpPort!, true);
    expect(r.auto.map((l) => [l.level, l.msg])).toEqual([
      ['info', expect.stringMatching(/the shipped pipeline's HTTP server answers/)],
    ]);
    expect(r.ledger).toBe(true);
  });

  it('nothing answers: one warning, and the run is the run without it (no ledger, every event)', async () => {
    const r = await run(() => freePort(), false);
    expect(r.auto.map((l) => [l.level, l.msg])).toEqual([['warn', expect.stringMatching(/nothing answers at/)]]);
    expect(r.ledger).toBe(false);
  });

  it('something else answers: one warning that says so, and the run is the run without it', async () => {
    const r = await run(() => otherServer(200, '<html>grafana</html>'), false);
    expect(r.auto.map((l) => [l.level, l.msg])).toEqual([
      ['warn', expect.stringMatching(/is not Fluent Bit's HTTP server/)],
    ]);
    expect(r.ledger).toBe(false);
  });
});
