// `--once` when Fluent Bit is never reachable: it gives up after --delivery-timeout instead of waiting forever,
// exits 1 with what to check, and keeps the checkpoint where acks reached (here: nowhere, so --since).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../../input/simulator/server.js';
import { runCli } from '../../support/run-cli.js';

const MIN = 60_000;
const dir = mkdtempSync(join(tmpdir(), 'fbjc-delivery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port nothing listens on (bound, then closed): connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every stream state file under the state directory, parsed. */
function states(root: string): { checkpoint: string; since: string }[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => JSON.parse(readFileSync(join(e.parentPath, e.name), 'utf8')) as { checkpoint: string; since: string });
}

describe('--once with Fluent Bit unreachable', () => {
  it('gives up after --delivery-timeout: exit 1, says what to check, the checkpoint does not move', async () => {
    const now = Date.now();
    const sim = await startSimulator({
      seed: 3,
      services: ['directory'],
      eventsPerMinute: 20,
      from: now - 30 * MIN,
      to: now,
      indexDelay: { lateFraction: 0 },
    });
    try {
      const state = mkdtempSync(join(dir, 'state-'));
      const port = await closedPort();
      const t0 = Date.now();
      const r = await runCli(
        [
          '--once',
          '--api-url',
          sim.url,
          '--services',
          'directory',
          '--since',
          '20m',
          '--state-dir',
          state,
          '--forward',
          `127.0.0.1:${port}`,
          '--delivery-timeout',
          '2s',
        ],
        { env: { JUMPCLOUD_API_KEY: sim.apiKey }, timeoutMs: 45_000 },
      );
      const took = Date.now() - t0;
      expect(r.signal).toBeNull(); // ended by itself, not by the test's kill
      expect(r.code).toBe(1);
      expect(took).toBeLessThan(40_000);
      expect(r.stderr).toMatch(/acknowledged nothing for 2000 ms/);
      expect(r.stderr).toMatch(/Check that Fluent Bit is running/);
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
      const [st, ...more] = states(state);
      expect(more).toEqual([]);
      // Nothing was acked: the checkpoint is still the start, so the next run fetches and sends everything again.
      expect(st!.checkpoint).toBe(st!.since);
    } finally {
      await sim.close();
    }
  });

  it('--delivery-timeout 0 keeps retrying (the old behaviour, for whoever wants it)', async () => {
    const now = Date.now();
    const sim = await startSimulator({
      seed: 4,
      services: ['directory'],
      eventsPerMinute: 20,
      from: now - 30 * MIN,
      to: now,
      indexDelay: { lateFraction: 0 },
    });
    try {
      const state = mkdtempSync(join(dir, 'state-'));
      const port = await closedPort();
      const r = await runCli(
        [
          '--once',
          '--api-url',
          sim.url,
          '--services',
          'directory',
          '--since',
          '20m',
          '--state-dir',
          state,
          '--forward',
          `127.0.0.1:${port}`,
          '--delivery-timeout',
          '0',
        ],
        { env: { JUMPCLOUD_API_KEY: sim.apiKey }, timeoutMs: 6_000 },
      );
      expect(r.signal).toBe('SIGKILL'); // still waiting when the test gave up on it
      expect(r.stderr).toMatch(/reconnecting to Fluent Bit/);
    } finally {
      await sim.close();
    }
  });
});
