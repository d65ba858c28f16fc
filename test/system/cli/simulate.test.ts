// Two processes as a user runs them: `fluent-bit-jumpcloud simulate` and the collector pointed at it with --once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { runCli, startCli, stateText } from '../../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-sim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('simulate subcommand + collector --once', () => {
  it('collects every simulated event once, and a second run forwards no duplicate', async () => {
    const sim = startCli([
      'simulate',
      '--port',
      '0',
      '--from',
      '20m',
      '--max-index-delay',
      '0',
      '--services',
      'directory,sso',
      '--api-key',
      'sim-key-123',
    ]);
    const receiver = await startForwardReceiver();
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline) {
        url = /listening at (http:\/\/\S+)/.exec(sim.output().stdout)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, sim.output().stderr).toBeDefined();
      const state = join(dir, 'state');
      const args = [
        '--once',
        '--api-url',
        url!,
        '--forward',
        `127.0.0.1:${receiver.port}`,
        '--services',
        'directory,sso',
        '--since',
        '10m',
        '--lag',
        '0',
        '--state-dir',
        state,
      ];
      const first = await runCli(args, { env: { JUMPCLOUD_API_KEY: 'sim-key-123' }, timeoutMs: 60_000 });
      expect(first.code, first.stderr.slice(-2000)).toBe(0);
      const afterFirst = receiver.ids().length;
      expect(afterFirst).toBeGreaterThan(300); // 60/min × 10 min × 2 services, give or take the edges
      const second = await runCli(args, { env: { JUMPCLOUD_API_KEY: 'sim-key-123' }, timeoutMs: 60_000 });
      expect(second.code, second.stderr.slice(-2000)).toBe(0);
      const ids = receiver.ids();
      expect(new Set(ids).size).toBe(ids.length);
      // The second pass only adds what appeared since the first (a few seconds of live events).
      expect(ids.length - afterFirst).toBeLessThan(100);
      expect(first.stderr + second.stderr).not.toContain('sim-key-123');
    } finally {
      await receiver.close();
      sim.child.kill('SIGTERM');
    }
    const s = await sim.done;
    expect(s.code).toBe(0);
  });

  it('collects with an OAuth service account and an org id, never printing the client secret', async () => {
    const secret = 'oauth-secret-value-987';
    const sim = startCli([
      'simulate',
      '--port',
      '0',
      '--from',
      '10m',
      '--max-index-delay',
      '0',
      '--services',
      'sso',
      '--orgs',
      'org-a,org-b',
      '--oauth-client',
      `cid-1:${secret}`,
    ]);
    const receiver = await startForwardReceiver();
    try {
      const deadline = Date.now() + 30_000;
      let m: RegExpExecArray | null = null;
      while (!m && Date.now() < deadline) {
        m = /listening at (http:\/\/\S+)[\s\S]*OAuth token URL: (\S+)/.exec(sim.output().stdout);
        if (!m) await new Promise((r) => setTimeout(r, 50));
      }
      expect(m, sim.output().stderr).not.toBeNull();
      const secretFile = join(dir, 'client-secret');
      writeFileSync(secretFile, `${secret}\n`);
      const r = await runCli(
        [
          '--once',
          '--api-url',
          m![1]!,
          '--token-url',
          m![2]!,
          '--client-id',
          'cid-1',
          '--org-ids',
          'org-a,org-b',
          '--services',
          'sso',
          '--since',
          '5m',
          '--lag',
          '0',
          '--forward',
          `127.0.0.1:${receiver.port}`,
          '--state-dir',
          join(dir, 'oauth'),
          '--log-level',
          'debug',
          '--tag',
          'jc.{org}.{service}',
        ],
        { env: { JUMPCLOUD_CLIENT_SECRET_FILE: secretFile }, timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(new Set(receiver.records.map((x) => x.tag))).toEqual(new Set(['jc.org-a.sso', 'jc.org-b.sso']));
      const ids = receiver.ids();
      expect(ids.length).toBeGreaterThan(200);
      expect(new Set(ids).size).toBe(ids.length);
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(stateText(join(dir, 'oauth'))).not.toContain(secret);
    } finally {
      await receiver.close();
      sim.child.kill('SIGTERM');
      await sim.done;
    }
  });

  it('simulate --help exits 0; a bad simulate option exits 2', async () => {
    const help = await runCli(['simulate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: fluent-bit-jumpcloud simulate/);
    const bad = await runCli(['simulate', '--port', 'many']);
    expect(bad.code).toBe(2);
  });
});
