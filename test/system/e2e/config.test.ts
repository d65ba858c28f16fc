// The shipped configuration files themselves: every ${VARIABLE} has a documented default in
// conf/jumpcloud.env, the classic and YAML files enable the same things, and (with FLUENT_BIT_BIN) Fluent
// Bit's own `--dry-run` accepts both with every output enabled: no invented option name survives it.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  FLUENT_BIT_BIN,
  REPO,
  WASM,
  fluentBitLine,
  shippedEnv,
  skipReason,
  tempDir,
  writeConfig,
  type FluentBitLine,
  type Format,
} from './pipeline-harness.js';

const FILES = [
  'fluent-bit.conf',
  'fluent-bit.yaml',
  ...readdirSync(join(REPO, 'conf'))
    .filter((f) => /\.(conf|yaml)$/.test(f))
    .map((f) => `conf/${f}`),
];
const read = (f: string) => readFileSync(join(REPO, f), 'utf8');
/** Lines that are not comments. */
const live = (text: string) => text.split('\n').filter((l) => !/^\s*#/.test(l));

describe('shipped configuration files', () => {
  it('every ${VARIABLE} they use is defined in conf/jumpcloud.env, and every defined one is used', () => {
    const env = shippedEnv();
    const vars = (text: string) => new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!));
    const active = new Set<string>();
    const anywhere = new Set<string>(); // including the commented, documented lines (TLS files)
    for (const f of FILES) {
      for (const v of vars(live(read(f)).join('\n'))) active.add(v);
      for (const v of vars(read(f))) anywhere.add(v);
    }
    expect([...active].filter((v) => !(v in env)).sort()).toEqual([]);
    expect(
      Object.keys(env)
        .filter((v) => !anywhere.has(v))
        .sort(),
    ).toEqual([]);
  });

  it('no generic option (tls*, storage.*, threaded) is fed a variable whose default is empty', () => {
    const env = shippedEnv();
    for (const f of FILES) {
      for (const line of live(read(f))) {
        const m = /^\s*-?\s*(tls[.\w]*|storage\.[\w.]+|threaded)\s*:?\s+\$\{(\w+)\}\s*$/i.exec(line);
        if (m) expect({ file: f, option: m[1], value: env[m[2]!] }).not.toMatchObject({ value: '' });
      }
    }
  });

  it('the classic and YAML twins set the same options to the same values', () => {
    const norm = (k: string) => k.toLowerCase();
    const pairs = (text: string, yaml: boolean): string[] =>
      live(text)
        .map((l) => (yaml ? /^\s*(?:- )?([\w.]+):\s+(.+?)\s*$/.exec(l) : /^\s+([\w.]+)\s+(.+?)\s*$/.exec(l)))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${norm(m[1]!)}=${m[2]!.toLowerCase()}`)
        .sort();
    expect(pairs(read('fluent-bit.yaml'), true)).toEqual(pairs(read('fluent-bit.conf'), false));
    for (const out of ['stdout', 'es', 'opensearch', 'splunk']) {
      expect(pairs(read(`conf/output-${out}.yaml`), true), out).toEqual(pairs(read(`conf/output-${out}.conf`), false));
    }
  });

  it('ships threaded on, filesystem storage and the dead-letter queue in both formats', () => {
    expect(live(read('fluent-bit.conf')).join('\n')).toMatch(/^\s+threaded\s+on$/m);
    expect(live(read('fluent-bit.yaml')).join('\n')).toMatch(/^\s+threaded: on$/m);
    for (const f of ['fluent-bit.conf', 'fluent-bit.yaml']) {
      const t = live(read(f)).join('\n');
      expect(t).toMatch(/storage\.type:?\s+filesystem/);
      expect(t).toMatch(/storage\.keep\.rejected:?\s+on/);
      expect(t).toMatch(/json\.escape_unicode:?\s+off/);
      expect(t).toMatch(/function_name:?\s+jumpcloud_ecs/);
    }
  });
});

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/e2e/config.test.ts (Fluent Bit --dry-run part) skipped: ${reason}`);

describe.skipIf(reason !== undefined)('Fluent Bit --dry-run accepts the shipped files', () => {
  const tmp = tempDir('jumpcloud-dryrun-');
  afterAll(() => tmp.remove());
  const env = () => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...shippedEnv(),
    JUMPCLOUD_STORAGE_PATH: join(tmp.path, 'storage'),
    JUMPCLOUD_WASM_PATH: WASM,
    JUMPCLOUD_WASM_DIR: dirname(WASM),
    SPLUNK_HEC_TOKEN: 'dry-run-token',
  });
  const dryRun = (config: string) =>
    spawnSync(FLUENT_BIT_BIN!, ['-c', config, '--dry-run'], { env: env(), encoding: 'utf8', timeout: 30_000 });

  it.each(['conf', 'yaml'] as Format[])('fluent-bit.%s with all four outputs', (format) => {
    const dir = join(tmp.path, format);
    spawnSync('mkdir', ['-p', dir]);
    const r = dryRun(writeConfig(dir, { format, outputs: ['stdout', 'es', 'opensearch', 'splunk'] }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/configuration test is successful/);
  });

  // What --dry-run does with an option name that no plugin has, per release line: 5.1 refuses the file; 4.2
  // accepts it (there --dry-run checks the syntax, not the names), so on 4.2 the name check is this
  // suite's own (the conf/yaml twin test above) and a misspelt option only shows at startup.
  const UNKNOWN_OPTION: Record<FluentBitLine, 'refused' | 'accepted'> = { '5.1': 'refused', '4.2': 'accepted' };

  it('and, per version, refuses (5.1) or accepts (4.2) a copy with an option name that does not exist', () => {
    const line = fluentBitLine();
    const dir = join(tmp.path, 'bogus');
    spawnSync('mkdir', ['-p', dir]);
    const path = writeConfig(dir, { format: 'conf', outputs: ['stdout'] });
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^(    threaded\s+on)$/m, '$1\n    bogus_option on'));
    expect(readFileSync(path, 'utf8')).toMatch(/^    bogus_option on$/m);
    const r = dryRun(path);
    if (UNKNOWN_OPTION[line] === 'refused') {
      expect(r.status, `Fluent Bit ${line} accepted an unknown option: update UNKNOWN_OPTION and the README`).not.toBe(
        0,
      );
      expect(r.stderr + r.stdout).toMatch(/unknown configuration property 'bogus_option'/);
    } else {
      expect(
        r.status,
        `Fluent Bit ${line} now refuses an unknown option: update UNKNOWN_OPTION and the README\n${r.stderr}`,
      ).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/configuration test is successful/);
    }
  });
});
