// The package as a user gets it: `npm pack`, installed into an empty prefix, then run from there: --help, the
// demo (it must show ECS documents with no Fluent Bit), the printed Fluent Bit command, and (FLUENT_BIT_BIN)
// a real Fluent Bit's --dry-run of the installed fluent-bit.conf and fluent-bit.yaml.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv } from '../../support/run-cli.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'fbjc-pack-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'node_modules', 'fluent-bit-jumpcloud');
const bin = join(prefix, 'node_modules', '.bin', 'fluent-bit-jumpcloud');
let packed: string[] = [];
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fluentBit = process.env.FLUENT_BIT_BIN;
if (!fluentBit)
  console.warn(
    'test/system/package/pack.test.ts: the Fluent Bit --dry-run part is skipped: set FLUENT_BIT_BIN to a fluent-bit ' +
      '4.2+ binary',
  );

beforeAll(async () => {
  // npm test builds first; the package is made from what the build produced.
  for (const f of ['dist/input/cli.js', 'build/jumpcloud.wasm']) {
    if (!existsSync(join(ROOT, f)))
      throw new Error(`${f} is missing: run npm run build (npm test does) before this test`);
  }
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packed = info!.files.map((f) => f.path);
  // Dependencies come from the npm registry (or npm's cache, which npm ci filled).
  await run(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--omit=dev',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(work, info!.filename),
    ],
    { cwd: work, maxBuffer: 64 * 1024 * 1024 },
  );
}, 300_000);

/** Paths the shipped Fluent Bit configuration includes. */
function includedPaths(): string[] {
  const conf = [...readFileSync(join(ROOT, 'fluent-bit.conf'), 'utf8').matchAll(/^#?@INCLUDE\s+(\S+)/gm)].map(
    (m) => m[1]!,
  );
  const yaml = [
    ...readFileSync(join(ROOT, 'fluent-bit.yaml'), 'utf8').matchAll(/^\s*#?\s*-\s+(conf\/\S+\.yaml)/gm),
  ].map((m) => m[1]!);
  return [...conf, ...yaml];
}

describe('npm pack + install into an empty prefix', () => {
  it('contains everything the README tells users to use', () => {
    const want = [
      'dist/input/cli.js',
      'build/jumpcloud.wasm',
      'scripts/build-aot.mjs',
      'fluent-bit.conf',
      'fluent-bit.yaml',
      'conf/jumpcloud.env',
      'templates/elasticsearch-index-template.json',
      'templates/splunk/README.md',
      'splunk/TA-jumpcloud-directory-insights/default/props.conf',
      'splunk/TA-jumpcloud-directory-insights/default/app.conf',
      'splunk/TA-jumpcloud-directory-insights/lookups/jumpcloud_di_event_types.csv',
      'scripts/build-splunk.py',
      'docs/ecs-mapping.md',
      'docs/fluent-bit.md',
      'deploy/systemd/fluent-bit-jumpcloud.service',
      'deploy/Containerfile',
      'deploy/compose.yaml',
      'deploy/side-by-side.sh',
      'README.md',
      'package.json',
      ...includedPaths(),
    ];
    expect(includedPaths().length).toBeGreaterThanOrEqual(6);
    expect(want.filter((f) => !packed.includes(f))).toEqual([]);
    // Nothing of the build's scratch state.
    expect(packed.filter((f) => /tsbuildinfo|\.stamp$|^state\//.test(f))).toEqual([]);
  });

  it('--help works from the installed bin', async () => {
    const { stdout } = await run(bin, ['--help'], { env: cleanEnv() });
    expect(stdout).toMatch(/^fluent-bit-jumpcloud \d+\.\d+\.\d+/);
    expect(stdout).toContain('fluent-bit-command');
    const sub = await run(bin, ['fluent-bit-command', '--help'], { env: cleanEnv() });
    expect(sub.stdout).toContain(`${installed}/fluent-bit.conf`);
  });

  it('the installed demo maps events to ECS documents with no Fluent Bit listening', async () => {
    const ndjson = join(work, 'demo.ndjson');
    const child = spawn(
      bin,
      ['--forward', '127.0.0.1:1', '--since', '2m', '--services', 'directory', '--demo-output', ndjson],
      { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    const deadline = Date.now() + 60_000;
    const first = (): string | undefined =>
      existsSync(ndjson) ? readFileSync(ndjson, 'utf8').split('\n')[0] || undefined : undefined;
    while (first() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await closed, stderr.slice(-2000)).toBe(0);
    expect(stderr).toContain(`${installed}/build/jumpcloud.wasm in this process`);
    const doc = JSON.parse(first()!) as Record<string, any>;
    expect(doc.observer).toEqual({ vendor: 'Jumpcloud' });
    expect(typeof doc.event.action).toBe('string');
    expect(typeof doc['@timestamp']).toBe('string');
  });

  it('prints a Fluent Bit command that loads the installed env file and points at the installed module', async () => {
    // A stand-in executable that reports what Fluent Bit would be started with: this checks the shell line itself.
    const probe = join(work, 'report-args');
    writeFileSync(probe, '#!/bin/sh\necho "cwd=$(pwd)"\necho "args=$*"\nenv\n');
    chmodSync(probe, 0o755);
    const { stdout: line } = await run(bin, ['fluent-bit-command', '--fluent-bit', probe], { env: cleanEnv() });
    const { stdout } = await run('sh', ['-c', line.trim()], { env: cleanEnv() });
    expect(stdout).toContain(`cwd=${installed}\n`);
    expect(stdout).toContain('args=-c fluent-bit.conf\n');
    expect(stdout).toContain('FLUENT_BIT_LOG_LEVEL=info\n'); // from conf/jumpcloud.env
    expect(stdout).toContain('ES_INDEX=logs-jumpcloud.directory_insights-default\n');
    expect(stdout).toContain(`JUMPCLOUD_WASM_PATH=${installed}/build/jumpcloud.wasm\n`);
    expect(stdout).toMatch(/^JUMPCLOUD_STORAGE_PATH=\/\S+fluent-bit-jumpcloud-storage$/m);
    expect(existsSync(join(installed, 'build', 'jumpcloud.wasm'))).toBe(true);
    // The production defaults stay in the installed env file.
    expect(readFileSync(join(installed, 'conf', 'jumpcloud.env'), 'utf8')).toContain(
      'JUMPCLOUD_WASM_PATH=/usr/local/share/fluent-bit-jumpcloud/jumpcloud.wasm',
    );
  });

  it.skipIf(!fluentBit).each(['conf', 'yaml'])(
    'a real Fluent Bit accepts the installed fluent-bit.%s as printed (--dry-run)',
    async (format) => {
      const args = [
        'fluent-bit-command',
        '--fluent-bit',
        fluentBit!,
        '--storage-path',
        join(work, `storage-${format}`),
        ...(format === 'yaml' ? ['--yaml'] : []),
        '--',
        '--dry-run',
      ];
      const { stdout: line } = await run(bin, args, { env: cleanEnv() });
      const r = await run('sh', ['-c', line.trim()], { env: cleanEnv() }).catch(
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
      expect(`${r.stdout}${r.stderr}`).toMatch(/configuration test is successful/);
    },
  );
});
