import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import {
  ConfigError,
  OPTIONS,
  REGIONS,
  loadConfig,
  parseForward,
  redactConfig,
  renderHelp,
  renderMarkdownTable,
  type LoadedConfig,
} from '../../../input/config.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'fbjc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(argv: string[], env: Record<string, string> = {}): LoadedConfig {
  const r = loadConfig({ argv, env, now: NOW, cwd: dir });
  if (r.kind !== 'run') throw new Error(`expected a run config, got ${r.kind}`);
  return r;
}

function error(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig({ argv, env, now: NOW, cwd: dir });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('defaults', () => {
  it('gives the documented defaults and runs the demo without credentials', () => {
    const { config, demo, logLevel } = load([]);
    expect(demo).toBe(true);
    expect(config.auth).toBeUndefined();
    expect(config.apiUrl).toBe(REGIONS.us);
    expect(config.services).toEqual(['all']);
    expect(config.orgIds).toEqual([]);
    expect(config.forward).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 24224 });
    expect(config.tag).toBe('jumpcloud.{service}');
    expect(config.stateDir).toBe(join(dir, 'state'));
    expect(config.sinceMs).toBe(NOW - 3_600_000);
    expect(config.lagMs).toBe(120_000);
    expect(config.overlapMs).toBe(3_600_000);
    expect(config.intervalMs).toBe(60_000);
    expect(config.backfillSlices).toBe(4);
    expect(config.pageLimit).toBe(10_000);
    expect(config.requestTimeoutMs).toBe(60_000);
    expect(config.maxSeenIds).toBe(1_000_000);
    expect(config.once).toBe(false);
    expect(config.metrics).toBeUndefined();
    expect(config.tls).toBeUndefined();
    expect(logLevel).toBe('info');
  });

  it('takes the API URL from the region', () => {
    expect(load(['--region', 'eu', '--api-key', 'k1234']).config.apiUrl).toBe(
      'https://api.eu.jumpcloud.com/insights/directory/v1',
    );
    expect(load(['--api-key', 'k1234'], { JUMPCLOUD_REGION: 'IN' }).config.apiUrl).toBe(
      'https://api.in.jumpcloud.com/insights/directory/v1',
    );
  });

  it('parses every flag form', () => {
    const { config } = load([
      '--api-key=k1234',
      '--services',
      'directory,sso',
      '--services',
      'radius',
      '--org-ids',
      'a1,b2',
      '--forward',
      'unix:/tmp/fb.sock',
      '--since',
      '2026-02-20T00:00:00Z',
      '--lag',
      '5m',
      '--overlap',
      '2h',
      '--interval',
      '90s',
      '--once',
      '--slices',
      '8',
      '--page-limit',
      '500',
      '--request-timeout',
      '10s',
      '--max-seen-ids',
      '1_000',
      '--metrics-port',
      '0',
      '--tag',
      'jc.{org}.{service}',
    ]);
    expect(config.services).toEqual(['directory', 'sso', 'radius']);
    expect(config.orgIds).toEqual(['a1', 'b2']);
    expect(config.forward).toEqual({ kind: 'unix', path: '/tmp/fb.sock' });
    expect(config.sinceMs).toBe(Date.parse('2026-02-20T00:00:00Z'));
    expect([config.lagMs, config.overlapMs, config.intervalMs, config.requestTimeoutMs]).toEqual([
      300_000, 7_200_000, 90_000, 10_000,
    ]);
    expect(config.once).toBe(true);
    expect([config.backfillSlices, config.pageLimit, config.maxSeenIds]).toEqual([8, 500, 1000]);
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.tag).toBe('jc.{org}.{service}');
  });

  it('builds an OAuth config', () => {
    const secret = file('client-secret', '  s3cr3t-client\n');
    const { config, demo } = load(['--client-id', 'cid', '--client-secret-file', secret, '--org-ids', 'o1']);
    expect(demo).toBe(false);
    expect(config.auth).toEqual({
      kind: 'oauth',
      clientId: 'cid',
      clientSecret: 's3cr3t-client',
      tokenUrl: 'https://admin-oauth.id.jumpcloud.com/oauth2/token',
    });
  });

  it('takes the OAuth token URL from the region unless --token-url is given', () => {
    const oauth = ['--client-id', 'cid', '--client-secret', 'csecret1', '--org-ids', 'o1'];
    const tokenUrl = (args: string[], env: Record<string, string> = {}): string => {
      const { auth } = load([...oauth, ...args], env).config;
      if (auth?.kind !== 'oauth') throw new Error('expected an OAuth config');
      return auth.tokenUrl;
    };
    expect(tokenUrl([])).toBe('https://admin-oauth.id.jumpcloud.com/oauth2/token');
    expect(tokenUrl(['--region', 'us'])).toBe('https://admin-oauth.id.jumpcloud.com/oauth2/token');
    expect(tokenUrl(['--region', 'eu'])).toBe('https://admin-oauth.id.eu.jumpcloud.com/oauth2/token');
    expect(tokenUrl([], { JUMPCLOUD_REGION: 'IN' })).toBe('https://admin-oauth.id.in.jumpcloud.com/oauth2/token');
    // An explicit token URL wins over the region, from any source.
    expect(tokenUrl(['--region', 'eu', '--token-url', 'https://proxy.example/oauth2/token'])).toBe(
      'https://proxy.example/oauth2/token',
    );
    expect(tokenUrl(['--region', 'in'], { JUMPCLOUD_TOKEN_URL: 'https://proxy.example/t' })).toBe(
      'https://proxy.example/t',
    );
    // --api-url moves the API host only; the region still picks the token endpoint.
    expect(tokenUrl(['--region', 'eu', '--api-url', 'https://di-proxy.example/insights/directory/v1'])).toBe(
      'https://admin-oauth.id.eu.jumpcloud.com/oauth2/token',
    );
  });

  it('parses --services-check (default 1h, 0 turns the check off)', () => {
    expect(load(['--api-key', 'k1234']).config.servicesCheckMs).toBe(3_600_000);
    expect(load(['--api-key', 'k1234', '--services-check', '15m']).config.servicesCheckMs).toBe(900_000);
    expect(load(['--api-key', 'k1234'], { JUMPCLOUD_SERVICES_CHECK: '0' }).config.servicesCheckMs).toBe(0);
    expect(() => load(['--api-key', 'k1234', '--services-check', 'often'])).toThrow(/--services-check/);
  });

  it('builds TLS and forward authentication', () => {
    const ca = file('ca.pem', 'x');
    const { config } = load([
      '--api-key',
      'k1234',
      '--tls',
      '--tls-ca-file',
      ca,
      '--no-tls-verify',
      '--shared-key',
      'sk123',
      '--username',
      'u',
      '--password',
      'pw123',
    ]);
    expect(config.tls).toEqual({ verify: false, caFile: ca });
    expect([config.sharedKey, config.username, config.password]).toEqual(['sk123', 'u', 'pw123']);
  });
});

describe('precedence: flags > env > config file > defaults', () => {
  it('applies each source in order, per option', () => {
    const cfg = file(
      'p.json',
      JSON.stringify({ lag: '3m', overlap: '3h', interval: '3s', services: ['x1', 'x2'], once: true }),
    );
    const r = load(['--config', cfg, '--lag', '1m'], {
      JUMPCLOUD_LAG: '2m',
      JUMPCLOUD_OVERLAP: '2h',
      JUMPCLOUD_API_KEY: 'k1234',
    });
    expect(r.config.lagMs).toBe(60_000); // flag
    expect(r.config.overlapMs).toBe(7_200_000); // env over file
    expect(r.config.intervalMs).toBe(3_000); // file over default
    expect(r.config.services).toEqual(['x1', 'x2']);
    expect(r.config.once).toBe(true);
    expect(r.config.backfillSlices).toBe(4); // default
    expect(r.sources).toMatchObject({ lag: 'flag', overlap: 'env', interval: 'file', slices: 'default' });
  });

  it('takes the config file path from JUMPCLOUD_CONFIG', () => {
    const cfg = file('e.json', JSON.stringify({ slices: 16, 'api-key': 'fromfile1' }));
    const r = load([], { JUMPCLOUD_CONFIG: cfg });
    expect(r.config.backfillSlices).toBe(16);
    expect(r.config.auth).toEqual({ kind: 'apiKey', apiKey: 'fromfile1' });
  });

  it('reads *_FILE secrets and trims them', () => {
    const key = file('key', 'abc-key-123\n');
    expect(load([], { JUMPCLOUD_API_KEY_FILE: key }).config.auth).toEqual({ kind: 'apiKey', apiKey: 'abc-key-123' });
    const cfg = file('kf.json', JSON.stringify({ 'api-key-file': key }));
    expect(load(['--config', cfg]).config.auth).toEqual({ kind: 'apiKey', apiKey: 'abc-key-123' });
    // A flag beats the env file variant.
    expect(load(['--api-key', 'flagkey'], { JUMPCLOUD_API_KEY_FILE: key }).config.auth).toEqual({
      kind: 'apiKey',
      apiKey: 'flagkey',
    });
  });

  it('lets an explicit --api-url win over the default region', () => {
    const r = load(['--api-url', 'http://127.0.0.1:9/insights/directory/v1/', '--api-key', 'k1234']);
    expect(r.config.apiUrl).toBe('http://127.0.0.1:9/insights/directory/v1');
    expect(r.demo).toBe(false);
  });
});

describe('validation errors name the setting, its source and what is expected', () => {
  it.each([
    [['--lag', '5x'], {}, 'lag', /invalid --lag \(from flag --lag\): "5x" is not a duration/],
    [[], { JUMPCLOUD_INTERVAL: 'soon' }, 'interval', /invalid --interval \(from env JUMPCLOUD_INTERVAL\)/],
    [['--interval', '0'], {}, 'interval', /must be more than 0/],
    [['--since', 'yesterday'], {}, 'since', /neither a duration nor a date/],
    [['--since', '2027-01-01'], {}, 'since', /not in the past/],
    [['--forward', 'localhost:99999'], {}, 'forward', /not a port/],
    [['--forward', '::1:24224'], {}, 'forward', /brackets/],
    [['--forward', 'unix:'], {}, 'forward', /names no socket/],
    [['--forward', 'bad host:1'], {}, 'forward', /not a host/],
    [['--region', 'mars'], {}, 'region', /"mars" is not a region: expected us, eu or in/],
    [[], { JUMPCLOUD_REGION: 'ap' }, 'region', /from env JUMPCLOUD_REGION/],
    [['--client-id', 'c', '--client-secret', 'sec123'], {}, 'org-ids', /needs --org-ids/],
    [['--client-id', 'c', '--org-ids', 'o'], {}, 'client-secret', /needs --client-secret/],
    [
      ['--api-key', 'k1234', '--client-id', 'c', '--client-secret', 's', '--org-ids', 'o'],
      {},
      'api-key',
      /both set: use one of them/,
    ],
    [['--api-key-file', '/nonexistent/key'], {}, 'api-key', /cannot read \/nonexistent\/key: ENOENT/],
    [['--api-key', 'k1234'], { JUMPCLOUD_API_KEY: 'x' }, undefined, undefined],
    [
      [],
      { JUMPCLOUD_API_KEY: 'k1234', JUMPCLOUD_API_KEY_FILE: '/x' },
      'api-key',
      /both JUMPCLOUD_API_KEY and JUMPCLOUD_API_KEY_FILE/,
    ],
    [['--slices', '33'], {}, 'slices', /33 is out of range: expected 1 to 32/],
    [['--slices', 'four'], {}, 'slices', /not a whole number/],
    [['--page-limit', '10001'], {}, 'page-limit', /out of range/],
    [['--api-url', 'ftp://x/y', '--api-key', 'k1234'], {}, 'api-url', /must use http or https/],
    [['--api-url', 'http://127.0.0.1:1/insights/directory/v1'], {}, 'api-key', /no credentials/],
    [['--log-level', 'loud'], {}, 'log-level', /not a level/],
    [['--tag', 'jc.{svc}'], {}, 'tag', /not a tag template/],
    [['--tls-ca-file', '/etc/hosts'], {}, 'tls-ca-file', /--tls is off/],
    [['--username', 'u', '--password', 'pw123'], {}, 'shared-key', /needs --shared-key/],
    [['--tls-verify=maybe'], {}, 'tls-verify', /not a boolean/],
    [['--services', 'a b'], {}, 'services', /not a valid name/],
  ] as const)('%j %j', (argv, env, setting, message) => {
    if (setting === undefined) {
      // Not an error: flag beats env.
      expect(load([...argv], { ...env }).config.auth).toEqual({ kind: 'apiKey', apiKey: 'k1234' });
      return;
    }
    const err = error([...argv], { ...env });
    expect(err.setting).toBe(setting);
    expect(err.message).toMatch(message!);
    expect(err.message).not.toMatch(/\n\s+at /);
  });

  it('rejects unknown flags with a suggestion, and stray arguments', () => {
    expect(error(['--api-kye', 'x']).message).toMatch(/unknown option --api-kye: did you mean --api-key\?/);
    expect(error(['run']).message).toMatch(/unexpected argument "run"/);
    expect(error(['--lag']).message).toMatch(/--lag needs a value/);
  });

  it('checks the config file', () => {
    expect(error(['--config', join(dir, 'missing.json')]).message).toMatch(
      /cannot read config file .*missing.json \(from flag --config\): ENOENT/,
    );
    expect(error(['--config', file('bad.json', '{nope')]).message).toMatch(/not valid JSON/);
    expect(error(['--config', file('arr.json', '[]')]).message).toMatch(/must hold a JSON object/);
    expect(error(['--config', file('unk.json', '{"lagg": "1m"}')]).message).toMatch(
      /unknown key "lagg": did you mean "lag"\?/,
    );
    const e = error(['--config', file('type.json', '{"lag": "1x"}')]);
    expect(e.message).toMatch(/invalid --lag \(from config file key "lag" of .*type.json\)/);
    expect(error(['--config', file('t2.json', '{"services": 3}')]).message).toMatch(
      /expected a list of strings or a comma-separated string, got number/,
    );
    expect(error(['--config', file('t3.json', '{"once": [1]}')]).message).toMatch(/expected true or false/);
  });

  it('rejects an empty key file and a state dir that is a file', () => {
    expect(error(['--api-key-file', file('empty', '  \n')]).message).toMatch(/is empty/);
    expect(error(['--state-dir', file('notadir', '')]).message).toMatch(/exists and is not a directory/);
  });

  it('never echoes a secret in an error', () => {
    const e = error([
      '--api-key',
      'TOPSECRETKEY',
      '--client-id',
      'c',
      '--client-secret',
      'OTHERSECRET',
      '--org-ids',
      'o',
    ]);
    expect(e.message).not.toContain('TOPSECRETKEY');
    expect(e.message).not.toContain('OTHERSECRET');
  });
});

describe('cross-checks and warnings', () => {
  it('clamps --since beyond the 90-day retention with a warning', () => {
    const r = load(['--since', '2025-01-01']);
    expect(r.config.sinceMs).toBe(NOW - 90 * 86_400_000);
    expect(r.warnings.join('\n')).toMatch(/older than the 90-day retention/);
  });
  it('accepts lag 0 and overlap 0', () => {
    const r = load(['--lag', '0', '--overlap', '0s']);
    expect([r.config.lagMs, r.config.overlapMs]).toEqual([0, 0]);
  });
  it('warns about an overlap shorter than the lag', () => {
    expect(load(['--lag', '10m', '--overlap', '5m']).warnings.join()).toMatch(/shorter than --lag/);
  });
});

describe('parseForward', () => {
  it.each([
    ['127.0.0.1:24224', { kind: 'tcp', host: '127.0.0.1', port: 24224 }],
    ['fluent-bit.local:24000', { kind: 'tcp', host: 'fluent-bit.local', port: 24000 }],
    ['[::1]:24224', { kind: 'tcp', host: '::1', port: 24224 }],
    ['[fe80::1]', { kind: 'tcp', host: 'fe80::1', port: 24224 }],
    ['fluentbit', { kind: 'tcp', host: 'fluentbit', port: 24224 }],
    ['unix:/var/run/fb.sock', { kind: 'unix', path: '/var/run/fb.sock' }],
  ])('%s', (text, target) => {
    expect(parseForward(text)).toEqual(target);
  });
  it('round-trips host:port and rejects garbage with a message', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65_535 }), (host, port) => {
        expect(parseForward(`${host}:${port}`)).toEqual({ kind: 'tcp', host, port });
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 1, max: 65_535 }), (host, port) => {
        expect(parseForward(`[${host}]:${port}`)).toEqual({ kind: 'tcp', host, port });
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const t = parseForward(text);
          if (t.kind === 'tcp') expect(t.port).toBeGreaterThanOrEqual(1);
        } catch (err) {
          expect((err as Error).message.length).toBeGreaterThan(5);
        }
      }),
    );
  });
});

describe('help, README table and redaction', () => {
  it('lists every option in --help and in the README table', () => {
    const help = renderHelp('1.2.3');
    const table = renderMarkdownTable();
    for (const o of OPTIONS) {
      if (o.envOnly) {
        expect(help).toContain(o.env!);
        expect(table).toContain(o.env!);
        continue;
      }
      expect(help).toContain(`--${o.name}`);
      if (o.env) expect(help).toContain(o.env);
      if (o.name !== 'help' && o.name !== 'version') expect(table).toContain(`--${o.name}`);
      if (o.fileVariant) expect(help).toContain(`${o.env}_FILE`);
    }
  });

  it('redacts every secret', () => {
    const r = load([
      '--api-key',
      'AKEY12345',
      '--shared-key',
      'SKEY12345',
      '--username',
      'u',
      '--password',
      'PWD12345',
    ]);
    const text = JSON.stringify(redactConfig(r.config));
    for (const s of ['AKEY12345', 'SKEY12345', 'PWD12345']) expect(text).not.toContain(s);
    const o = load(['--client-id', 'cid', '--client-secret', 'CSECRET123', '--org-ids', 'o1']);
    expect(JSON.stringify(redactConfig(o.config))).not.toContain('CSECRET123');
  });

  it('reports --help and --version', () => {
    expect(loadConfig({ argv: ['--help'], env: {}, now: NOW }).kind).toBe('help');
    expect(loadConfig({ argv: ['-h'], env: {}, now: NOW }).kind).toBe('help');
    expect(loadConfig({ argv: ['--version'], env: {}, now: NOW }).kind).toBe('version');
  });
});

describe('precedence, as a property', () => {
  const durations = ['lag', 'overlap', 'interval'] as const;
  const envOf = { lag: 'JUMPCLOUD_LAG', overlap: 'JUMPCLOUD_OVERLAP', interval: 'JUMPCLOUD_INTERVAL' } as const;
  const fieldOf = { lag: 'lagMs', overlap: 'overlapMs', interval: 'intervalMs' } as const;
  const defaults = { lag: 120_000, overlap: 3_600_000, interval: 60_000 };
  const seconds = fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: undefined });

  it('the highest source that sets an option wins: flag > env > file > default', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(seconds, seconds, seconds), { minLength: 3, maxLength: 3 }), (sets) => {
        const argv: string[] = [];
        const env: Record<string, string> = {};
        const json: Record<string, string> = {};
        const expected: Record<string, number> = {};
        durations.forEach((name, i) => {
          const [flagS, envS, fileS] = sets[i]!;
          if (flagS !== undefined) argv.push(`--${name}`, `${flagS}s`);
          if (envS !== undefined) env[envOf[name]] = `${envS}s`;
          if (fileS !== undefined) json[name] = `${fileS}s`;
          const winner = flagS ?? envS ?? fileS;
          expected[name] = winner === undefined ? defaults[name] : winner * 1000;
        });
        const path = file(`prop-${n++}.json`, JSON.stringify(json));
        const { config } = load(['--config', path, ...argv], env);
        for (const name of durations) expect(config[fieldOf[name]]).toBe(expected[name]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('--fluent-bit-http and --fluent-bit-input', () => {
  it(
    'names the shipped forward input by default, takes another name from the flag or FLUENT_BIT_INPUT, refuses one ' +
      'with spaces',
    () => {
      expect(load(['--api-key', 'k1234', '--fluent-bit-http', '127.0.0.1:2020']).config).toMatchObject({
        fluentBitHttp: { host: '127.0.0.1', port: 2020 },
        fluentBitInput: 'jumpcloud_forward',
      });
      expect(
        load(['--api-key', 'k1234', '--fluent-bit-http', '127.0.0.1:2020', '--fluent-bit-input', 'forward.0']).config
          .fluentBitInput,
      ).toBe('forward.0');
      expect(
        load(['--api-key', 'k1234', '--fluent-bit-http', '127.0.0.1:2020'], { FLUENT_BIT_INPUT: 'dedicated' }).config
          .fluentBitInput,
      ).toBe('dedicated');
      // Without the HTTP server there is no counter to read: the name is not part of the configuration.
      expect(load(['--api-key', 'k1234', '--fluent-bit-http', 'off']).config.fluentBitInput).toBeUndefined();
      expect(
        error(['--api-key', 'k1234', '--fluent-bit-http', '127.0.0.1:2020', '--fluent-bit-input', 'two words']).message,
      ).toMatch(/--fluent-bit-input.*not an input name.*Alias/);
    },
  );
});
