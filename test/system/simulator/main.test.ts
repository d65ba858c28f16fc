import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgvError } from '../../../input/argv.js';
import { CATALOG } from '../../../input/simulator/catalog.js';
import { parseSimulatorArgs, simulatorUsage } from '../../../input/simulator/main.js';
import { scenarioEvents } from '../../../input/simulator/scenario/events.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('simulator CLI', () => {
  it('parses its flags into options', () => {
    const { options } = parseSimulatorArgs(
      [
        '--port',
        '0',
        '--orgs',
        'a,b',
        '--rate',
        '120',
        '--fault-rate',
        '0.05',
        '--fault-kinds',
        '429,reset',
        '--page-latency',
        '200ms',
        '--max-index-delay',
        '30m',
        '--oauth-client',
        'id:se:cret',
        '--from',
        '2h',
        '--hidden-from-all',
        'password_manager,genai',
      ],
      {},
    );
    expect(options).toMatchObject({
      port: 0,
      orgs: ['a', 'b'],
      eventsPerMinute: 120,
      faults: { rate: 0.05, kinds: ['429', 'reset'] },
      pageLatencyMs: 200,
      indexDelay: { maxMs: 1_800_000 },
      oauthClients: [{ clientId: 'id', clientSecret: 'se:cret' }],
      hiddenFromAll: ['password_manager', 'genai'],
      to: 'live',
    });
    expect(Date.now() - (options.from as number)).toBeGreaterThanOrEqual(7_200_000 - 1000);
  });

  it('names the bad flag', () => {
    expect(() => parseSimulatorArgs(['--fault-rate', '2'], {})).toThrow(
      /--fault-rate "2" must be a number from 0 to 1/,
    );
    expect(() => parseSimulatorArgs(['--fault-kinds', 'meteor'], {})).toThrow(/unknown kind "meteor"/);
    expect(() => parseSimulatorArgs(['--page-latency', 'fast'], {})).toThrow(ArgvError);
    expect(() => parseSimulatorArgs(['--prot', '1'], {})).toThrow(/--port/);
    expect(simulatorUsage()).toContain('--fault-kinds');
  });

  it('reads providers and scenarios', () => {
    const { options } = parseSimulatorArgs(
      [
        '--providers',
        'p1,p2',
        '--scenario',
        'a.yaml,b.yaml',
        '--scenario',
        'c.yaml',
        '--scenario-start',
        '2026-06-01T12:00:00Z',
        '--scenario-org',
        'o2',
        '--orgs',
        'o1,o2',
      ],
      {},
    );
    const start = Date.UTC(2026, 5, 1, 12);
    expect(options.providers).toEqual(['p1', 'p2']);
    const runs = ['a.yaml', 'b.yaml', 'c.yaml'].map((scenario) => ({ scenario, start, orgId: 'o2' }));
    expect(options.scenarios).toEqual(runs);
    expect(() => parseSimulatorArgs(['--scenario-start', '1h'], {})).toThrow(
      /--scenario-start and --scenario-org need --scenario FILE/,
    );
    expect(() => parseSimulatorArgs(['--scenario', 'a.yaml', '--scenario-start', 'soon'], {})).toThrow(
      /--scenario-start: /,
    );
  });

  it("--print writes a scenario's events exactly; --list-types the catalog; a bad scenario exits 2", () => {
    const main = ['--import', 'tsx', 'input/simulator/main.ts'];
    const sim = (...args: string[]) => spawnSync(process.execPath, [...main, ...args], { cwd: root, encoding: 'utf8' });
    const file = 'scenarios/brute-force-success.yaml';
    const at = '2026-06-01T12:00:00Z';
    const printed = sim('--print', '--scenario', file, '--scenario-start', at, '--seed', '7', '--orgs', 'o1');
    expect(printed.status, printed.stderr).toBe(0);
    const expected = scenarioEvents(`${root}/${file}`, { start: Date.UTC(2026, 5, 1, 12), seed: 7, orgId: 'o1' });
    expect(printed.stdout).toBe(expected.map((e) => `${e.event}\n`).join(''));
    const types = sim('--list-types');
    expect(types.stdout.trimEnd().split('\n')).toHaveLength(CATALOG.length + 1);
    expect(types.stdout).toMatch(/^radius_auth_attempt +radius +radius_auth +1 0$/m);
    const bad = sim('--print', '--scenario', 'scenarios/README.md');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad scenario: scenarios\/README\.md: /);
    expect(sim('--print').stderr).toMatch(/--print prints the events of --scenario FILE/);
  });

  it('runs standalone until SIGTERM and serves the API', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'input/simulator/main.ts', '--port', '0', '--rate', '30'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening at (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/events/count`, {
        method: 'POST',
        headers: { 'x-api-key': 'sim-api-key', 'content-type': 'application/json' },
        body: JSON.stringify({ service: ['all'], start_time: new Date(Date.now() - 1_800_000).toISOString() }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { count: number }).count).toBeGreaterThan(100);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
