import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgvError } from '../../../input/argv.js';
import { parseSimulatorArgs, simulatorUsage } from '../../../input/simulator/main.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('simulator CLI', () => {
  it('parses its flags into options', () => {
    const { options } = parseSimulatorArgs(
      ['--port', '0', '--orgs', 'a,b', '--rate', '120', '--fault-rate', '0.05', '--fault-kinds', '429,reset', '--page-latency', '200ms', '--max-index-delay', '30m', '--oauth-client', 'id:se:cret', '--from', '2h', '--hidden-from-all', 'password_manager,genai'],
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
    expect(() => parseSimulatorArgs(['--fault-rate', '2'], {})).toThrow(/--fault-rate "2" must be a number from 0 to 1/);
    expect(() => parseSimulatorArgs(['--fault-kinds', 'meteor'], {})).toThrow(/unknown kind "meteor"/);
    expect(() => parseSimulatorArgs(['--page-latency', 'fast'], {})).toThrow(ArgvError);
    expect(() => parseSimulatorArgs(['--prot', '1'], {})).toThrow(/--port/);
    expect(simulatorUsage()).toContain('--fault-kinds');
  });

  it('runs standalone until SIGTERM and serves the API', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'input/simulator/main.ts', '--port', '0', '--rate', '30'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
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
