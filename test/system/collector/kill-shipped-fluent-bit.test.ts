// The kill test on the shipped deployments' settings, against a real Fluent Bit (FLUENT_BIT_BIN): Fluent Bit runs
// the shipped fluent-bit.conf (stdout output, the wasm filter) with conf/jumpcloud.env; the collector (the package
// bin, dist/input/cli.js) runs with the environment its deployment sets, read from the deployment's own file
// (test/support/deploy-settings.ts): the systemd unit, the Kubernetes pod jumpcloud-collector-0 (ConfigMap, env,
// its shard), the compose file. Only what a test machine must change is rewritten: ports (free ones, after checking
// that the deployment's match conf/jumpcloud.env's), paths, the API (the simulator) and its key. The collector is
// killed with SIGKILL several times while it sends, Fluent Bit staying up; then a last run delivers the rest.
// Measured: events, repeats (documents Fluent Bit printed twice), losses. Nothing may be lost, and every repeat must
// be one that a restart announced (what it could not prove stored, it sends again and says so); the target is none.
// The control runs the systemd settings with FLUENT_BIT_HTTP=off: it must repeat, or this test could not see one.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '../../../input/simulator/render.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { orgsOfShard } from '../../../input/shard.js';
import { compareIds, expectedIds, until } from '../../support/collector.js';
import { composeEnv, kubernetesEnv, systemdEnv, type Deployment, REPO } from '../../support/deploy-settings.js';
import {
  FLUENT_BIT_BIN,
  WASM,
  fluentBitVersion,
  freePort,
  shippedEnv,
  skipReason,
  startFluentBit,
  writeConfig,
  type FluentBit,
} from '../e2e/pipeline-harness.js';

const skip = skipReason();
if (skip) console.warn(`kill-shipped-fluent-bit.test.ts skipped: ${skip}`);
const CLI = path.join(REPO, 'dist/input/cli.js');
const KILLS = 3;
const MIN = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** The deployment's collector environment, before the test's rewrites. */
function deploymentEnv(d: Deployment): Record<string, string> {
  if (d === 'systemd') return systemdEnv();
  if (d === 'kubernetes') return kubernetesEnv(0).env;
  // The compose file's documented switch to real data: the API key as a secret file.
  return { ...composeEnv(), JUMPCLOUD_API_KEY_FILE: '/run/secrets/jumpcloud_api_key' };
}

/** HOST:PORT of a setting that must point at the shipped pipeline (`port` from conf/jumpcloud.env), moved to `to`. */
function moved(name: string, value: string | undefined, port: string, to: number): string {
  const m = /^(127\.0\.0\.1|localhost|fluent-bit):(\d+)$/.exec(value ?? '');
  if (!m)
    throw new Error(`${name}=${value}: not the shipped pipeline's address (loopback or fluent-bit, port ${port})`);
  expect(m[2], `${name} names conf/jumpcloud.env's port`).toBe(port);
  return `127.0.0.1:${to}`;
}

interface Ports {
  readonly forward: number;
  readonly http: number;
}

/** The deployment's env with the test machine's addresses, paths, API and key; every rewritten key is listed. */
function collectorEnv(
  d: Deployment,
  http: boolean,
  ports: Ports,
  sim: Simulator,
  orgs: readonly string[],
  work: string,
) {
  const shipped = shippedEnv();
  const env = deploymentEnv(d);
  const keyFile = path.join(work, 'api-key');
  writeFileSync(keyFile, sim.apiKey);
  const rewritten: Record<string, string> = {
    FLUENT_BIT_FORWARD: moved('FLUENT_BIT_FORWARD', env.FLUENT_BIT_FORWARD, shipped.FORWARD_PORT!, ports.forward),
    FLUENT_BIT_HTTP: http
      ? moved('FLUENT_BIT_HTTP', env.FLUENT_BIT_HTTP, shipped.FLUENT_BIT_HTTP_PORT!, ports.http)
      : 'off',
    JUMPCLOUD_STATE_DIR: path.join(work, 'state'),
    JUMPCLOUD_API_KEY_FILE: keyFile,
    JUMPCLOUD_API_URL: sim.url,
    ...(env.JUMPCLOUD_ORG_IDS !== undefined ? { JUMPCLOUD_ORG_IDS: orgs.join(',') } : {}),
    ...(env.JUMPCLOUD_METRICS_PORT !== undefined
      ? { JUMPCLOUD_METRICS_HOST: '127.0.0.1', JUMPCLOUD_METRICS_PORT: '0' }
      : {}),
  };
  expect(env.FLUENT_BIT_INPUT, `${d} names the forward input's Alias`).toBe('jumpcloud_forward');
  return { env: { ...env, ...rewritten }, kept: Object.keys(env).filter((k) => !(k in rewritten)) };
}

/** Bytes of every id journal (<state>/<org>/<service>.ids) under a state directory. */
function journalBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, encoding: 'utf8' }))
    if (e.endsWith('.ids')) n += statSync(path.join(dir, e)).size;
  return n;
}

function startCollector(env: Record<string, string>, log: string[], logFile: string) {
  const child = spawn(process.execPath, [CLI], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (text += s));
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      log.push(text);
      writeFileSync(logFile, text);
      r(code);
    }),
  );
  const ready = until(() => text.includes('collector starting') || child.exitCode !== null, 60_000, 'start');
  cleanup.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  return { child, exited, ready };
}

interface Result {
  /** Kept for the diagnosis of a failure; the test removes it once its checks passed. */
  readonly work: string;
  readonly events: number;
  readonly documents: number;
  readonly repeats: number;
  readonly lost: number;
  readonly decisions: string[];
  /** Events the restarts said they send again (written chunks the ledger found not stored, acks not confirmed). */
  readonly announced: number;
}

async function killRun(d: Deployment, http: boolean, seed: number): Promise<Result> {
  const random = prng(seed);
  const work = mkdtempSync(path.join(tmpdir(), `kill-shipped-${d}-`));
  const ports = { forward: await freePort(), http: await freePort() };
  const fb: FluentBit = await startFluentBit(writeConfig(work, { format: 'conf', outputs: ['stdout'] }), {
    ...shippedEnv(),
    JUMPCLOUD_STORAGE_PATH: path.join(work, 'storage'),
    FORWARD_PORT: String(ports.forward),
    FLUENT_BIT_HTTP_PORT: String(ports.http),
    JUMPCLOUD_WASM_PATH: WASM,
    JUMPCLOUD_WASM_DIR: path.dirname(WASM),
  });
  cleanup.push(() => fb.stop());
  // Its uptime counts whole seconds: a restart decision in its first 2 s cannot tell it from a restarted one.
  await sleep(2_100);

  // Kubernetes: the orgs of pod -0's shard of six; the others: the key's own org.
  const k8s = d === 'kubernetes' ? kubernetesEnv(0) : undefined;
  const allOrgs = k8s ? Array.from({ length: 6 }, (_, i) => `5f0c1a2b3c4d5e6f7a8b9c${String(i).padStart(2, '0')}`) : [];
  const orgs = k8s ? orgsOfShard(allOrgs, { index: 0, count: k8s.replicas }) : [''];
  expect(orgs.length).toBeGreaterThan(0);
  const to = Date.now() - 5 * MIN;
  const from = to - 45 * MIN;
  const services = ['directory', 'sso'];
  const sim = await startSimulator({
    seed: 90 + seed,
    ...(k8s ? { orgs: allOrgs } : {}),
    services,
    // About 60,000 events, read in pages of the default 10,000 a request, each answered in 100 ms.
    eventsPerMinute: Math.round(60_000 / 45 / services.length / orgs.length),
    from,
    to,
    pageLatencyMs: 100,
    indexDelay: { lateFraction: 0 },
  });
  cleanup.push(() => sim.close());
  const expected = expectedIds(
    sim,
    orgs.map((orgId) => ({ orgId, service: 'all' })),
    from,
    to,
  );
  const { env, kept } = collectorEnv(d, http, ports, sim, allOrgs, work);
  const log: string[] = [];
  const ids = (): string[] => fb.stdoutDocs.map((doc) => (doc.jumpcloud as { id: string }).id);
  for (let k = 0; k < KILLS; k++) {
    const c = startCollector(env, log, path.join(work, `collector-${k}.log`));
    await c.ready;
    // Killed while it sends: 0 to 150 ms after its id journals first grew in this run (with FLUENT_BIT_HTTP a chunk
    // is journaled as it is written, without it once its ack settled), while it sends pages all along. Not at a
    // count of records Fluent Bit stored: its input counts a chunk once the wasm filter ran over it, seconds after
    // the ack when the collector sends faster than the filter maps.
    const before = journalBytes(env.JUMPCLOUD_STATE_DIR!);
    for (const deadline = Date.now() + 60_000; journalBytes(env.JUMPCLOUD_STATE_DIR!) <= before; await sleep(5)) {
      if (c.child.exitCode !== null)
        throw new Error(`run ${k} exited before its kill:\n${log.join('\n').slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`run ${k}: nothing journaled within 60 s`);
    }
    await sleep(Math.floor(random() * 150));
    c.child.kill('SIGKILL');
    await c.exited;
    await sleep(300);
  }
  const last = startCollector(env, log, path.join(work, `collector-${KILLS}.log`));
  await last.ready;
  await until(() => new Set(ids()).size >= expected.size, 180_000, 'every event after the kills');
  await sleep(1_500); // anything still coming (a repeat) arrives
  last.child.kill('SIGTERM');
  expect(await last.exited).toBe(0);
  expect(await fb.stop()).toBe(0);
  expect(fb.stdoutJunk.slice(0, 3)).toEqual([]);
  const cmp = compareIds(ids(), expected);
  // What each restart decided about the chunks in flight at its kill: written ones from the input's counter
  // (stored/sent again), acked ones from the uptime (confirmed/sent again).
  const decided = log
    .join('\n')
    .split('\n')
    .filter((l) => l.includes('just before the collector stopped') || l.includes('since its last acks'))
    .map((l) => JSON.parse(l) as { stored?: number; confirmed?: number; resent: number });
  const decisions = decided.map((o) =>
    o.stored !== undefined ? `written ${o.stored}/${o.resent}` : `acked ${o.confirmed ?? 0}/${o.resent}`,
  );
  console.log(
    `kill-shipped (${d}${http ? '' : ', FLUENT_BIT_HTTP=off'}, Fluent Bit ${fluentBitVersion().text}): ` +
      `${expected.size} events, ${KILLS} kill -9 of the collector, ${ids().length} documents, ` +
      `repeats ${cmp.extraCopies}, lost ${cmp.missing.length}; in flight at the kills (stored or confirmed/resent) ` +
      `[${decisions.join(', ')}]; deployment settings kept as shipped: ${kept.join(', ')}; work dir ${work}`,
  );
  return {
    work,
    events: expected.size,
    documents: ids().length,
    repeats: cmp.extraCopies,
    lost: cmp.missing.length + cmp.unexpected.length,
    decisions,
    announced: decided.reduce((n, o) => n + o.resent, 0),
  };
}

describe.skipIf(skip !== undefined)("kill -9 of the collector on the shipped deployments' settings", () => {
  it('the package bin is built', () => {
    expect(existsSync(CLI), `${CLI}: run npm run build`).toBe(true);
  });

  // The target is 0 repeats. What a restart cannot prove stored it sends again, and says so: every repeat must be
  // one of those (none unannounced), and none may be lost.
  for (const d of ['systemd', 'kubernetes', 'compose'] as const) {
    it(`${d}: ${KILLS} kills with Fluent Bit up, nothing lost, no repeat the restarts did not announce`, async () => {
      const r = await killRun(d, true, 11);
      expect(r.lost).toBe(0);
      expect(r.events).toBeGreaterThan(40_000);
      expect(r.repeats).toBeLessThanOrEqual(r.announced);
      rmSync(r.work, { recursive: true, force: true });
    }, 600_000);
  }

  it('control, the systemd settings with FLUENT_BIT_HTTP=off: the kills repeat events', async () => {
    const r = await killRun('systemd', false, 11);
    expect(r.lost).toBe(0);
    expect(r.repeats).toBeGreaterThan(0);
    rmSync(r.work, { recursive: true, force: true });
  }, 600_000);
});
