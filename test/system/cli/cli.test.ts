// The CLI as acceptance drives it: spawned with node, exit codes, messages on stderr, nothing secret anywhere.
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../../input/config.js';
import { runCli, startCli, stateText } from '../../support/run-cli.js';
import { httpGet } from '../../support/http-wait.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const API_KEY = 'jc-api-key-0123456789abcdef';
const SHARED_KEY = 'fb-shared-key-s3cr3t';
const PASSWORD = 'fb-password-p4ssw0rd';
const CLIENT_SECRET = 'oauth-client-secret-zzz';

/** A stand-in DI API: 401 for a wrong key, else empty pages and zero counts. */
let api: Server;
let apiUrl = '';
const seenKeys: string[] = [];
beforeAll(async () => {
  api = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['x-api-key'] ?? '');
      seenKeys.push(key);
      if (key !== API_KEY) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
        return;
      }
      if (req.url?.endsWith('/events/count')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"count":0}');
        return;
      }
      if (req.url?.endsWith('/events/interval')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"buckets":[]}');
        return;
      }
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'x-result-count': '0',
          'x-limit': '10000',
          'x-search_after': '[]',
        })
        .end('[]');
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/insights/directory/v1`;
});
afterAll(() => new Promise<void>((resolve) => api.close(() => resolve())));

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('--help and --version', () => {
  it('--help lists every option and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const o of OPTIONS) expect(r.stdout).toContain(o.envOnly ? o.env! : `--${o.name}`);
    for (const env of ['JUMPCLOUD_API_KEY_FILE', 'JUMPCLOUD_ORG_IDS', 'FLUENT_BIT_FORWARD', 'JUMPCLOUD_STATE_DIR'])
      expect(r.stdout).toContain(env);
    expect(r.stderr).toBe('');
  });

  it('--help shows no secret taken from the environment', async () => {
    const r = await runCli(['--help'], {
      env: {
        JUMPCLOUD_API_KEY: API_KEY,
        FLUENT_BIT_SHARED_KEY: SHARED_KEY,
        FLUENT_BIT_PASSWORD: PASSWORD,
        JUMPCLOUD_CLIENT_SECRET: CLIENT_SECRET,
      },
    });
    expect(r.code).toBe(0);
    for (const secret of [API_KEY, SHARED_KEY, PASSWORD, CLIENT_SECRET])
      expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('configuration errors exit 2 with a message naming the setting', () => {
  it.each([
    ['bad duration', ['--lag', '10 minutes'], {}, /invalid --lag \(from flag --lag\)/],
    [
      'bad duration from env',
      [],
      { JUMPCLOUD_INTERVAL: '5' },
      /invalid --interval \(from env JUMPCLOUD_INTERVAL\): "5" has no unit/,
    ],
    ['bad forward address', ['--forward', 'host:port'], {}, /invalid --forward .*not a port/],
    ['bad region', ['--region', 'apac'], {}, /invalid --region .*expected us, eu or in/],
    ['missing org id with OAuth', ['--client-id', 'cid', '--client-secret', CLIENT_SECRET], {}, /needs --org-ids/],
    [
      'unreadable key file',
      [],
      { JUMPCLOUD_API_KEY_FILE: '/nonexistent/jc.key' },
      /invalid --api-key \(from env JUMPCLOUD_API_KEY_FILE\): cannot read \/nonexistent\/jc.key/,
    ],
    [
      'both key kinds',
      ['--api-key', API_KEY, '--client-id', 'cid', '--client-secret', CLIENT_SECRET, '--org-ids', 'o1'],
      {},
      /API key .* and a service account .* are both set/,
    ],
    ['unknown option', ['--since-when', '1h'], {}, /unknown option --since-when/],
    ['since in the future', ['--since', '2999-01-01'], {}, /invalid --since .*not in the past/],
  ])('%s', async (_name, args, env, message) => {
    const r = await runCli(args, { env: env as Record<string, string> });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(/); // no stack trace
    expect(r.stderr).not.toContain(API_KEY);
    expect(r.stderr).not.toContain(CLIENT_SECRET);
    expect(r.stdout).toBe('');
  });
});

describe('metrics port in use', () => {
  it('exits 2 and names --metrics-port', async () => {
    const r = await runCli(
      [
        '--api-url',
        apiUrl,
        '--metrics-port',
        String((api.address() as AddressInfo).port),
        '--state-dir',
        join(dir, 'mp'),
      ],
      { env: { JUMPCLOUD_API_KEY: API_KEY } },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EADDRINUSE.*--metrics-port/);
  });
});

describe('precedence and printing', () => {
  it('flags > env > config file > defaults, secrets redacted', async () => {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ lag: '7m', overlap: '3h', interval: '30s', 'shared-key': SHARED_KEY }));
    const r = await runCli(
      ['--print-config', '--config', cfg, '--lag', '1m', '--password', PASSWORD, '--username', 'fb'],
      {
        env: { JUMPCLOUD_LAG: '5m', JUMPCLOUD_OVERLAP: '2h', JUMPCLOUD_API_KEY: API_KEY, JUMPCLOUD_ORG_IDS: 'o1,o2' },
      },
    );
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toMatchObject({
      lag: '1m',
      overlap: '2h',
      interval: '30s',
      orgIds: ['o1', 'o2'],
      demo: false,
      auth: { kind: 'apiKey', apiKey: '[redacted]' },
      sharedKey: '[redacted]',
      password: '[redacted]',
    });
    for (const secret of [API_KEY, SHARED_KEY, PASSWORD]) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});

describe('--print-config shows the token URL of the region', () => {
  for (const [region, url] of [
    ['us', 'https://admin-oauth.id.jumpcloud.com/oauth2/token'],
    ['eu', 'https://admin-oauth.id.eu.jumpcloud.com/oauth2/token'],
    ['in', 'https://admin-oauth.id.in.jumpcloud.com/oauth2/token'],
  ] as const) {
    it(region, async () => {
      const r = await runCli(['--print-config', '--region', region, '--client-id', 'cid', '--org-ids', 'o1'], {
        env: { JUMPCLOUD_CLIENT_SECRET: 'csecret-print' },
      });
      expect(r.code).toBe(0);
      const printed = JSON.parse(r.stdout);
      expect(printed.auth).toEqual({ kind: 'oauth', clientId: 'cid', clientSecret: '[redacted]', tokenUrl: url });
      expect(printed.apiUrl).toBe(
        region === 'us'
          ? 'https://api.jumpcloud.com/insights/directory/v1'
          : `https://api.${region}.jumpcloud.com/insights/directory/v1`,
      );
    });
  }
});

describe('running', () => {
  it('--once against an API that refuses the key exits 3, says what to fix, and never prints a secret', async () => {
    const state = mkdtempSync(join(dir, 'state-'));
    const keyFile = join(dir, 'wrong.key');
    writeFileSync(keyFile, 'wrong-key-that-is-secret\n');
    const r = await runCli(
      [
        '--once',
        '--api-url',
        apiUrl,
        '--state-dir',
        state,
        '--forward',
        '127.0.0.1:1',
        '--shared-key',
        SHARED_KEY,
        '--username',
        'u',
        '--password',
        PASSWORD,
        '--log-level',
        'debug',
      ],
      { env: { JUMPCLOUD_API_KEY_FILE: keyFile, JUMPCLOUD_SERVICES: 'directory' }, timeoutMs: 60_000 },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/401|key/i);
    const all = r.stdout + r.stderr;
    for (const secret of ['wrong-key-that-is-secret', SHARED_KEY, PASSWORD]) expect(all).not.toContain(secret);
    // It did send the key, just never printed it, nor wrote it into the state.
    expect(seenKeys).toContain('wrong-key-that-is-secret');
    expect(stateText(state)).not.toMatch(/wrong-key-that-is-secret|fb-shared-key|fb-password/);
  });

  it('serves /metrics and /healthz while running, and stops with 0 on SIGTERM', async () => {
    const state = mkdtempSync(join(dir, 'state-'));
    const cli = startCli(
      [
        '--api-url',
        apiUrl,
        '--state-dir',
        state,
        '--forward',
        '127.0.0.1:1',
        '--metrics-port',
        '0',
        '--interval',
        '1s',
        '--services',
        'directory,sso',
        '--shared-key',
        SHARED_KEY,
      ],
      {
        env: { JUMPCLOUD_API_KEY: API_KEY },
      },
    );
    try {
      const port = await waitFor(
        () => {
          const m = /"port":(\d+)[^\n]*metrics listening/.exec(cli.output().stderr);
          return m ? Number(m[1]) : undefined;
        },
        30_000,
        'the metrics port in the logs',
      );
      const metrics = await httpGet(port, '/metrics');
      expect(metrics.status).toBe(200);
      for (const name of [
        'jumpcloud_events_fetched_total',
        'jumpcloud_events_forwarded_total',
        'jumpcloud_lag_seconds',
        'jumpcloud_api_retries_total',
        'jumpcloud_api_errors_total',
        'jumpcloud_last_success_timestamp_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(metrics.body).toContain(name);
      }
      // Healthy once both streams completed a poll.
      let last = { status: 0, body: '' };
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        last = await httpGet(port, '/healthz');
        if (last.status === 200 && JSON.parse(last.body).status === 'ok') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(last.status).toBe(200);
      expect(JSON.parse(last.body)).toMatchObject({ healthy: true, status: 'ok' });
      expect(
        JSON.parse(last.body)
          .streams.map((s: { service: string }) => s.service)
          .sort(),
      ).toEqual(['directory', 'sso']);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const r = await cli.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/stopping/);
    expect(stateText(state).length).toBeGreaterThan(0);
    expect(stateText(state)).not.toContain(API_KEY);
    for (const secret of [API_KEY, SHARED_KEY]) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
