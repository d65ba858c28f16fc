// The options table drives validation: each option's `group` names the one validator that reads it, every option
// of the table is read by its group's validator, and a validator cannot read another group's option.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTIONS, loadConfig, type LoadedConfig } from '../../../input/config.js';
import { readSettings } from '../../../input/config/sources.js';
import { GROUPS } from '../../../input/config/spec.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'fbjc-groups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pem = join(dir, 'x.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
const scenario = join(dir, 'spray.yaml');
writeFileSync(scenario, 'description: one failed login\nsteps:\n  - type: user_login_attempt\n    success: false\n');

/** Every option that has no default, set (TLS on, so that its files count). */
const common = {
  JUMPCLOUD_API_URL: 'https://proxy.example/insights/directory/v1',
  JUMPCLOUD_ORG_IDS: 'o1',
  JUMPCLOUD_PROVIDER_ID: 'p1',
  FLUENT_BIT_TLS: 'true',
  FLUENT_BIT_TLS_CA_FILE: pem,
  FLUENT_BIT_TLS_CERT_FILE: pem,
  FLUENT_BIT_TLS_KEY_FILE: pem,
  FLUENT_BIT_TLS_SERVERNAME: 'fb',
  FLUENT_BIT_SHARED_KEY: 'k1234',
  FLUENT_BIT_USERNAME: 'u',
  FLUENT_BIT_PASSWORD: 'p',
  JUMPCLOUD_METRICS_PORT: '9100',
  JUMPCLOUD_STATE_DIR: dir,
  JUMPCLOUD_TOKEN_URL: 'https://proxy.example/oauth2/token',
  JUMPCLOUD_DEMO_OUTPUT: join(dir, 'demo.ndjson'),
  JUMPCLOUD_SHARD: '0/1',
  FLUENT_BIT_HTTP: '127.0.0.1:2020',
};

function load(env: Record<string, string>): LoadedConfig {
  const r = loadConfig({ argv: [], env, now: NOW, cwd: dir });
  if (r.kind !== 'run') throw new Error(`expected a run, got ${r.kind}`);
  return r;
}

describe('config validation is driven by the options table', () => {
  it("every option of every group is read by its group's validator", () => {
    const withKey = load({ ...common, JUMPCLOUD_API_KEY: 'key-1234' });
    const withAccount = load({ ...common, JUMPCLOUD_CLIENT_ID: 'cid', JUMPCLOUD_CLIENT_SECRET: 'secret-1' });
    // --scenario is the demo's: read in a run without credentials or API URL.
    const { JUMPCLOUD_API_URL: _url, ...demo } = common;
    const withScenario = load({ ...demo, JUMPCLOUD_DEMO_SCENARIO: scenario });
    const read = new Set([withKey, withAccount, withScenario].flatMap((r) => Object.keys(r.sources)));
    // help, version and config are read before any group; the testing clock is env-only and not a source.
    const unread = OPTIONS.map((o) => o.name).filter(
      (n) => !read.has(n) && !['help', 'version', 'config', 'clock'].includes(n),
    );
    expect(unread).toEqual([]);
    expect(new Set(OPTIONS.map((o) => o.group))).toEqual(new Set(GROUPS));
    expect(load({ ...common, JUMPCLOUD_API_KEY: 'key-1234', FLUENT_BIT_JUMPCLOUD_CLOCK: 'spec' }).clockSpec).toBe(
      'spec',
    );
  });

  it("a validator reading another group's option is refused", () => {
    const s = readSettings(OPTIONS, { argv: [], env: {}, now: NOW, cwd: dir });
    if (s.kind !== 'settings') throw new Error('expected settings');
    expect(() => s.forGroup('Operation').get('lag')).toThrow(/Operation validator reads --lag/);
    expect(s.forGroup('Collection').req('lag').value).toBe('2m');
  });
});
