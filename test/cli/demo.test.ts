// The built-in demo (no credentials): simulator in-process, forwarding to a listening Fluent Bit (here the
// protocol-level receiver), or a clear hint when none listens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startForwardReceiver } from '../support/forward-receiver.js';
import { runCli, startCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('built-in demo', () => {
  it('--once forwards the simulator events to a listening Fluent Bit, each once, with the shared key', async () => {
    const receiver = await startForwardReceiver({ sharedKey: 'demo-shared-key' });
    try {
      const r = await runCli(['--once', '--since', '10m', '--lag', '0', '--forward', `127.0.0.1:${receiver.port}`, '--services', 'directory,sso', '--state-dir', join(dir, 'once')], {
        env: { FLUENT_BIT_SHARED_KEY: 'demo-shared-key' },
        timeoutMs: 60_000,
      });
      expect(r.stderr).toMatch(/demo: no JumpCloud credentials/);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const ids = receiver.ids();
      expect(ids.length).toBeGreaterThan(100); // ~60/min per service over 10 min
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(receiver.records.map((x) => x.tag))).toEqual(new Set(['jumpcloud.directory', 'jumpcloud.sso']));
      expect(r.stderr).not.toContain('demo-shared-key');
    } finally {
      await receiver.close();
    }
  });

  it('without Fluent Bit, says how to start one and keeps retrying until stopped', async () => {
    const cli = startCli(['--forward', '127.0.0.1:1', '--since', '5m', '--services', 'directory']);
    const deadline = Date.now() + 30_000;
    while (!/cannot reach Fluent Bit/.test(cli.output().stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const { stderr } = cli.output();
    expect(stderr).toMatch(/No Fluent Bit is listening on 127\.0\.0\.1:1/);
    expect(stderr).toMatch(/fluent-bit -c .*fluent-bit\.conf/);
    expect(stderr).toMatch(/--forward HOST:PORT/);
    expect(stderr).toMatch(/cannot reach Fluent Bit: retrying/);
    // First signal: graceful stop (waits for acks); second: leave now, nothing acknowledged is lost.
    cli.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/second signal/);
  });

  it('uses the testing clock of FLUENT_BIT_JUMPCLOUD_CLOCK and rejects a bad one', async () => {
    const spec = `2026-01-01T00:00:00.000Z@${Date.now()}x60`;
    const ok = await runCli(['--print-config', '--since', '1h'], { env: { FLUENT_BIT_JUMPCLOUD_CLOCK: spec } });
    expect(ok.code).toBe(0);
    const since = Date.parse(JSON.parse(ok.stdout).since);
    expect(Math.abs(since - Date.parse('2025-12-31T23:00:00Z'))).toBeLessThan(10 * 60_000);
    const bad = await runCli(['--print-config'], { env: { FLUENT_BIT_JUMPCLOUD_CLOCK: 'tomorrow' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid FLUENT_BIT_JUMPCLOUD_CLOCK \(env, testing only\)/);
  });
});
