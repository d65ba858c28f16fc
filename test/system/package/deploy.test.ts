// deploy/: what this machine can check of the systemd unit (systemd-analyze verify), the container build file
// (every path it copies exists, in the repository or in the npm package), the compose file, and the shell
// example (which, with FLUENT_BIT_BIN, runs a real Fluent Bit beside the collector).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../../input/config.js';
import { ROOT, cleanEnv } from '../../support/run-cli.js';
import { composeEnv, systemdEnv } from '../../support/deploy-settings.js';
import { freePort, shippedEnv } from '../e2e/pipeline-harness.js';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'fbjc-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
const optionEnvs = new Set(OPTIONS.flatMap((o) => (o.env ? [o.env, ...(o.fileVariant ? [`${o.env}_FILE`] : [])] : [])));

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!hasSystemdAnalyze)
  console.warn(
    'test/system/package/deploy.test.ts: systemd-analyze is not installed, so `systemd-analyze verify` of the unit ' +
      'is skipped (apt-get install systemd)',
  );
const fluentBit = process.env.FLUENT_BIT_BIN;
if (!fluentBit)
  console.warn(
    'test/system/package/deploy.test.ts: the side-by-side run is skipped: set FLUENT_BIT_BIN to a fluent-bit 4.2+ ' +
      'binary',
  );

let packed: string[] = [];
beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  packed = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
}, 120_000);

describe('deploy/systemd/fluent-bit-jumpcloud.service', () => {
  const unit = read('deploy/systemd/fluent-bit-jumpcloud.service');

  it('starts the package bin and configures it through variables the collector reads', () => {
    expect(/^ExecStart=(\S+)$/m.exec(unit)?.[1]).toBe(Object.keys(pkg.bin)[0]);
    const vars = [...unit.matchAll(/^Environment=(\w+)=/gm)].map((m) => m[1]!);
    expect(vars).toEqual([
      'JUMPCLOUD_STATE_DIR',
      'JUMPCLOUD_API_KEY_FILE',
      'FLUENT_BIT_FORWARD',
      'FLUENT_BIT_HTTP',
      'FLUENT_BIT_INPUT',
    ]);
    for (const v of vars) expect(optionEnvs.has(v), v).toBe(true);
    // The shipped pipeline on this host, as conf/jumpcloud.env and fluent-bit.conf set it up.
    const env = systemdEnv(unit);
    expect(env.FLUENT_BIT_FORWARD).toBe(`127.0.0.1:${shippedEnv().FORWARD_PORT}`);
    expect(env.FLUENT_BIT_HTTP).toBe(`${shippedEnv().FLUENT_BIT_HTTP_LISTEN}:${shippedEnv().FLUENT_BIT_HTTP_PORT}`);
    expect(read('fluent-bit.conf')).toMatch(new RegExp(`^\\s+Alias\\s+${env.FLUENT_BIT_INPUT}$`, 'm'));
    // The user's collector.env comes after, so it overrides them.
    expect(unit.lastIndexOf('Environment=')).toBeLessThan(unit.indexOf('EnvironmentFile='));
    // Configuration errors and API refusals are not restarted.
    expect(unit).toMatch(/^RestartPreventExitStatus=2 3$/m);
  });

  /**
   * `systemd-analyze verify` of the unit with ExecStart pointing at this checkout's bin (the installed one is not on
   * this machine).
   */
  function verify(text: string): { status: number | null; stderr: string } {
    const file = join(work, 'fluent-bit-jumpcloud.service');
    writeFileSync(
      file,
      text.replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath} ${join(ROOT, 'dist/input/cli.js')}`),
    );
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  }

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify without a warning', () => {
    expect(verify(unit)).toEqual({ status: 0, stderr: '' });
    // The check can fail: a misspelt key is reported.
    expect(verify(unit.replace('RestartSec=', 'RestartSecs=')).stderr).toMatch(/Unknown key 'RestartSecs'/);
  });
});

describe('deploy/Containerfile', () => {
  const file = read('deploy/Containerfile');
  const copies = [...file.matchAll(/^COPY\s+(--from=\S+\s+)?(.+)$/gm)].map((m) => ({
    from: m[1]?.trim(),
    parts: m[2]!.trim().split(/\s+/),
  }));

  it('copies only paths that exist in the repository', () => {
    const local = copies.filter((c) => c.from === undefined).flatMap((c) => c.parts.slice(0, -1));
    expect(local.length).toBeGreaterThan(5);
    expect(local.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('takes what the images use from the npm package, and everything the package needs is copied into the build', () => {
    const fromPkg = copies
      .filter((c) => c.from === '--from=build')
      .flatMap((c) => c.parts.slice(0, -1))
      .filter((p) => p.startsWith('/pkg/'));
    expect(fromPkg.length).toBeGreaterThanOrEqual(3);
    for (const p of fromPkg.map((x) => x.slice('/pkg/'.length).replace(/\/$/, ''))) {
      expect(
        packed.some((f) => f === p || f.startsWith(`${p}/`)),
        p,
      ).toBe(true);
    }
    // Every top-level entry of the package (other than what npm adds) comes from a COPY into the build stage.
    const copied = new Set(
      copies
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.parts.slice(0, -1))
        .map((p) => p.replace(/\/$/, '')),
    );
    const tops = new Set(
      packed.map((f) => f.split('/')[0]!).filter((t) => !['package.json', 'dist', 'build'].includes(t)),
    );
    expect([...tops].filter((t) => !copied.has(t))).toEqual([]);
  });

  it('runs the package bin with variables the collector reads, and a Fluent Bit of a supported release', () => {
    expect(file).toMatch(new RegExp(`^ENTRYPOINT \\["${Object.keys(pkg.bin)[0]}"\\]$`, 'm'));
    for (const [, v] of file.matchAll(/^ENV (\w+)=/gm)) expect(optionEnvs.has(v!), v).toBe(true);
    const [major, minor] = /^ARG FLUENT_BIT_IMAGE=\S+:(\d+)\.(\d+)\.\d+$/m.exec(file)!.slice(1).map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(402);
  });
});

describe('deploy/compose.yaml', () => {
  const compose = read('deploy/compose.yaml');

  it('builds both targets of the Containerfile and loads the shipped env file', () => {
    const containerfile = read('deploy/Containerfile');
    for (const [, f] of compose.matchAll(/dockerfile: (\S+)/g)) expect(existsSync(join(ROOT, f!)), f).toBe(true);
    for (const [, t] of compose.matchAll(/target: (\S+)/g))
      expect(containerfile).toMatch(new RegExp(`^FROM \\S+ AS ${t}$`, 'm'));
    for (const [, f] of compose.matchAll(/env_file: (\S+)/g))
      expect(existsSync(join(ROOT, 'deploy', f!)), f).toBe(true);
    // The collector reaches the Fluent Bit service's forward input and HTTP server over the compose network.
    const env = composeEnv();
    const fluentBit = (parseYaml(compose) as { services: Record<string, { environment: Record<string, string> }> })
      .services['fluent-bit']!.environment;
    expect(env.FLUENT_BIT_FORWARD).toBe(`fluent-bit:${shippedEnv().FORWARD_PORT}`);
    expect(env.FLUENT_BIT_HTTP).toBe(`fluent-bit:${shippedEnv().FLUENT_BIT_HTTP_PORT}`);
    expect(fluentBit).toMatchObject({ FORWARD_LISTEN: '0.0.0.0', FLUENT_BIT_HTTP_LISTEN: '0.0.0.0' });
    expect(env.FLUENT_BIT_INPUT).toBe('jumpcloud_forward');
    for (const v of Object.keys(env)) expect(optionEnvs.has(v), v).toBe(true);
  });
});

describe('deploy/side-by-side.sh', () => {
  it('is valid sh and says what is missing when no Fluent Bit is found', async () => {
    await run('sh', ['-n', join(ROOT, 'deploy/side-by-side.sh')]);
    const r = await run(join(ROOT, 'deploy/side-by-side.sh'), [], {
      env: cleanEnv({ FLUENT_BIT_BIN: join(work, 'no-such-fluent-bit') }),
    }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toMatch(
      /no Fluent Bit at .*: install Fluent Bit 4\.2\+ or set FLUENT_BIT_BIN/,
    );
  });

  it('refuses a forward port that something else already listens on', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const r = await run(join(ROOT, 'deploy/side-by-side.sh'), [], {
        env: cleanEnv({ FLUENT_BIT_BIN: process.execPath, FORWARD_PORT: String(port) }),
      }).catch((e: { code: number; stderr: string }) => e);
      expect((r as { code: number }).code).toBe(2);
      expect((r as { stderr: string }).stderr).toContain(
        `something already listens on 127.0.0.1:${port}: stop it or set FORWARD_PORT`,
      );
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('refuses an HTTP server port that something else already listens on', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const [port, httpPort] = [(free.address() as AddressInfo).port, (busy.address() as AddressInfo).port];
    await new Promise((r) => free.close(r));
    try {
      const r = await run(join(ROOT, 'deploy/side-by-side.sh'), [], {
        env: cleanEnv({
          FLUENT_BIT_BIN: process.execPath,
          FORWARD_PORT: String(port),
          FLUENT_BIT_HTTP_PORT: String(httpPort),
        }),
      }).catch((e: { code: number; stderr: string }) => e);
      expect((r as { code: number }).code).toBe(2);
      expect((r as { stderr: string }).stderr).toContain(
        `something already listens on 127.0.0.1:${httpPort}: stop it or set FLUENT_BIT_HTTP_PORT`,
      );
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it.skipIf(!fluentBit)(
    'runs a real Fluent Bit beside the demo collector: ECS documents come out of Fluent Bit',
    async () => {
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
      const port = (free.address() as AddressInfo).port;
      await new Promise((r) => free.close(r));
      const httpPort = await freePort();
      const child = spawn(join(ROOT, 'deploy/side-by-side.sh'), ['--since', '2m', '--services', 'directory'], {
        env: cleanEnv({
          FLUENT_BIT_BIN: fluentBit!,
          FORWARD_PORT: String(port),
          FLUENT_BIT_HTTP_PORT: String(httpPort),
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so the test can stop Fluent Bit and the collector together, like Ctrl-C.
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = new Promise((r) => child.on('close', r));
      const deadline = Date.now() + 60_000;
      const ecs = (): Record<string, any> | undefined => {
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const doc = JSON.parse(line) as Record<string, any>;
          if (doc.observer?.vendor === 'Jumpcloud') return doc;
        }
        return undefined;
      };
      while (ecs() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      process.kill(-child.pid!, 'SIGINT');
      await closed;
      expect(stderr).toContain(`A Fluent Bit is listening on 127.0.0.1:${port}: the demo forwards`);
      const doc = ecs();
      expect(doc, stderr.slice(-3000)).toBeDefined();
      expect(typeof doc!.event.action).toBe('string');
    },
    90_000,
  );
});
