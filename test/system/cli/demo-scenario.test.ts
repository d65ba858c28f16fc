// The demo's --scenario: the scenario's events arrive with the demo's first pages and are listed in its notes; a
// bad file or a run with credentials is refused before anything starts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { runCli } from '../../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-demo-scenario-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo --scenario', () => {
  it("forwards the scenario's events among the simulator's, and lists them", async () => {
    const receiver = await startForwardReceiver();
    try {
      const scenario = 'scenarios/mass-user-deletion.yaml';
      const r = await runCli(
        [
          '--once',
          '--since',
          '30m',
          '--lag',
          '0',
          '--forward',
          `127.0.0.1:${receiver.port}`,
          '--services',
          'directory',
          '--state-dir',
          join(dir, 'state'),
          '--scenario',
          scenario,
        ],
        { timeoutMs: 90_000 },
      );
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stderr).toMatch(/Scenario mass-user-deletion \(\S*scenarios\/mass-user-deletion\.yaml\): A mass user/);
      expect(r.stderr).toMatch(/Its 12 events are among the simulator's, each marked ★ mass-user-deletion below/);
      // The notes list each event: its timestamp, type, actor, address and outcome.
      const listed = [...r.stderr.matchAll(/^ {2}(\S+Z) +user_delete +(maurice\.moss@\S+) /gm)].map((m) => m[1]!);
      expect(listed).toHaveLength(12);
      const events = receiver.records.map((x) => JSON.parse(String(x.record['message'])) as Record<string, unknown>);
      const deleted = events.filter(
        (e) =>
          e.event_type === 'user_delete' &&
          listed.includes(String(e.timestamp)) &&
          (e.initiated_by as { email?: string }).email?.startsWith('maurice.moss@'),
      );
      expect(deleted.map((e) => e.timestamp)).toEqual(listed);
      expect(new Set(deleted.map((e) => (e.resource as { username: string }).username)).size).toBe(12);
      expect(receiver.ids().length).toBeGreaterThan(100);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a bad scenario file, and --scenario with credentials', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'description: d\nsteps:\n  - type: user_delete\n    repeat: 3\n');
    const r = await runCli(['--once', '--scenario', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid --scenario \(from flag --scenario\): .*bad\.yaml: steps\[0\]: repeat 3 needs/);
    const key = { JUMPCLOUD_API_KEY: 'k-12345678' };
    const creds = await runCli(['--once', '--scenario', 'scenarios/two-countries.yaml'], { env: key });
    expect(creds.code).toBe(2);
    expect(creds.stderr).toMatch(/--scenario plays into the built-in demo's simulator: unset the credentials/);
    const missing = await runCli(['--once', '--scenario', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--scenario/);
  });
});
