// The built-in demo (no credentials): simulator in-process, forwarding to a listening Fluent Bit (here the
// protocol-level receiver), or mapping in-process with the wasm filter when none listens; stopping it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { runCli, startCli } from '../../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(ok: () => boolean, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${context().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('built-in demo', () => {
  it('--once forwards the simulator events to a listening Fluent Bit, each once, with the shared key', async () => {
    const receiver = await startForwardReceiver({ sharedKey: 'demo-shared-key' });
    try {
      const r = await runCli(
        [
          '--once',
          '--since',
          '10m',
          '--lag',
          '0',
          '--forward',
          `127.0.0.1:${receiver.port}`,
          '--services',
          'directory,sso',
          '--state-dir',
          join(dir, 'once'),
        ],
        {
          env: { FLUENT_BIT_SHARED_KEY: 'demo-shared-key' },
          timeoutMs: 60_000,
        },
      );
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

  it('without Fluent Bit, maps the events in-process with the wasm filter, shows them and writes them as NDJSON', async () => {
    const ndjson = join(dir, 'local.ndjson');
    const cli = startCli([
      '--forward',
      '127.0.0.1:1',
      '--since',
      '5m',
      '--services',
      'directory,sso',
      '--demo-output',
      ndjson,
    ]);
    await waitFor(
      () => cli.output().stdout.split('\n').length > 50,
      30_000,
      () => cli.output().stderr,
    );
    const { stderr } = cli.output();
    expect(stderr).toMatch(/No Fluent Bit is listening on 127\.0\.0\.1:1, so the demo maps the events to ECS itself/);
    expect(stderr).toMatch(/In production Fluent Bit does this mapping/);
    expect(stderr).toContain(`Every ECS document is written to ${ndjson}`);
    // The printed Fluent Bit command names this install's module and a temporary storage path, on the same port.
    expect(stderr).toMatch(
      /JUMPCLOUD_WASM_PATH=\S+\/build\/jumpcloud\.wasm .*JUMPCLOUD_STORAGE_PATH=\S+ FORWARD_LISTEN=127\.0\.0\.1 FORWARD_PORT=1 exec fluent-bit -c fluent-bit\.conf\)/,
    );
    const stateDir = /Demo state is temporary \(([^)]+)\)/.exec(stderr)?.[1];
    expect(stateDir).toBeDefined();
    expect(existsSync(stateDir!)).toBe(true);
    const stopAt = Date.now();
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(Date.now() - stopAt).toBeLessThan(2000);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/ok: every event fetched was mapped and written \(\d+ documents\)/);
    expect(existsSync(stateDir!)).toBe(false);
    // Not a TTY: stdout carries the documents themselves, the same as the file; each an ECS document of the
    // simulator's events.
    const lines = readFileSync(ndjson, 'utf8').trimEnd().split('\n');
    const printed = r.stdout.trimEnd().split('\n');
    expect(printed.length).toBe(lines.length);
    expect(
      printed.every((l, i) => l === lines[i]),
      'stdout and the NDJSON file differ',
    ).toBe(true);
    const docs = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(docs.length).toBeGreaterThan(100);
    for (const d of docs) {
      expect(typeof d['@timestamp']).toBe('string');
      expect(typeof d.event?.action).toBe('string');
      expect(d.observer?.vendor).toBe('Jumpcloud');
      expect(d.error).toBeUndefined();
    }
    expect(new Set(docs.map((d) => d.jumpcloud?.id)).size).toBe(docs.length);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'with a Fluent Bit that never acks, one %s stops within 2 s, says nothing is kept and removes the temporary state',
    async (signal) => {
      const sockets: Socket[] = [];
      const silent = createServer((s) => sockets.push(s.on('error', () => undefined)));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as AddressInfo).port;
      try {
        const cli = startCli(['--forward', `127.0.0.1:${port}`, '--since', '5m', '--services', 'directory']);
        await waitFor(
          () => sockets.length > 0 && /new stream/.test(cli.output().stderr),
          30_000,
          () => cli.output().stderr,
        );
        await new Promise((r) => setTimeout(r, 500)); // the first page is sent and waits for its ack
        const stderr = cli.output().stderr;
        expect(stderr).toMatch(/A Fluent Bit is listening on 127\.0\.0\.1:\d+: the demo forwards the raw events there/);
        const stateDir = /Demo state is temporary \(([^)]+)\)/.exec(stderr)?.[1];
        expect(existsSync(stateDir!)).toBe(true);
        const stopAt = Date.now();
        cli.child.kill(signal);
        const r = await cli.done;
        expect(Date.now() - stopAt).toBeLessThan(2000);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/the demo state is temporary, so nothing is kept/);
        expect(r.stderr).not.toMatch(/fetched again on the next start/);
        expect(existsSync(stateDir!)).toBe(false);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => silent.close(r));
      }
    },
  );

  it('a second SIGINT exits at once and still removes the temporary state', async () => {
    const sockets: Socket[] = [];
    let received = 0;
    const silent = createServer((s) =>
      sockets.push(s.on('error', () => undefined).on('data', (d: Buffer) => (received += d.length))),
    );
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const cli = startCli(['--forward', `127.0.0.1:${port}`, '--since', '5m', '--services', 'directory']);
      // Events in flight (sent, never acked): the first signal then waits for their acks, so the second one
      // lands while the demo is stopping (with nothing in flight it could be gone before the second signal).
      await waitFor(
        () => /new stream/.test(cli.output().stderr) && received > 0,
        30_000,
        () => cli.output().stderr,
      );
      const stateDir = /Demo state is temporary \(([^)]+)\)/.exec(cli.output().stderr)?.[1];
      expect(existsSync(stateDir!)).toBe(true);
      cli.child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/second signal: exiting now; the temporary demo state is removed, nothing is kept/);
      expect(existsSync(stateDir!)).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
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
