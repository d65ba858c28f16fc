// --shard K/N: the hash that places an org (a contract: state directories are laid out by it), the option's
// validation, and three collectors over 300 orgs that together collect every event exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { runCollector } from '../../../input/collector/engine/run.js';
import { ConfigError, loadConfig, type LoadedConfig } from '../../../input/config.js';
import { jumpHash, orgKey, orgsOfShard, parseShard, shardOf } from '../../../input/shard.js';
import { startSimulator } from '../../../input/simulator/server.js';
import type { Clock, CollectorConfig } from '../../../input/types.js';
import { settled } from '../../support/clock.js';
import { startForwardReceiver } from '../../support/forward-receiver.js';
import { compareIds, expectNoLoss, expectedIds } from '../../support/collector.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ORGS = Array.from({ length: 300 }, (_, i) => `6${(i * 7919 + 13).toString(16).padStart(23, '0')}`);

describe('the shard of an org', () => {
  it('is the first 8 bytes of SHA-256 of the org id into the jump consistent hash (published vectors)', () => {
    // SHA-256("") = e3b0c44298fc1c14…, SHA-256("abc") = ba7816bf8f01cfea… (FIPS 180-2 examples).
    expect(orgKey('').toString(16)).toBe('e3b0c44298fc1c14');
    expect(orgKey('abc').toString(16)).toBe('ba7816bf8f01cfea');
    // Jump hash as the reference C implementation computes it (PyPI jump-consistent-hash 3.x, checked by hand).
    const vectors: [bigint, number, number][] = [
      [0n, 1, 0],
      [1n, 10, 6],
      [123456789n, 3, 0],
      [2n ** 64n - 1n, 1000, 313],
      [0xcbf29ce484222325n, 7, 1],
      [42n, 100, 43],
    ];
    for (const [key, n, bucket] of vectors) expect(jumpHash(key, n)).toBe(bucket);
  });

  it("never changes: these orgs are in these shards (a change would move every user's state)", () => {
    const golden = ORGS.slice(0, 12).map((o) => [shardOf(o, 3), shardOf(o, 4), shardOf(o, 10)]);
    expect(golden).toEqual([
      [2, 2, 6],
      [2, 2, 5],
      [1, 1, 7],
      [1, 3, 3],
      [1, 1, 1],
      [0, 0, 4],
      [0, 3, 4],
      [2, 2, 9],
      [1, 3, 5],
      [0, 0, 0],
      [1, 1, 1],
      [0, 0, 8],
    ]);
  });

  it('going from N to N + 1 shards moves an org only to the new shard N, and about 1/(N + 1) of them', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 1, max: 500 }), (key, n) => {
        const before = jumpHash(key, n);
        const after = jumpHash(key, n + 1);
        return before >= 0 && before < n && (after === before || after === n);
      }),
      { numRuns: 2000 },
    );
    const orgs = Array.from({ length: 30_000 }, (_, i) => `org-${i}`);
    for (const n of [1, 2, 3, 7]) {
      const moved = orgs.filter((o) => shardOf(o, n) !== shardOf(o, n + 1)).length;
      expect(moved / orgs.length).toBeGreaterThan(1 / (n + 1) - 0.02);
      expect(moved / orgs.length).toBeLessThan(1 / (n + 1) + 0.02);
    }
    // Shards are about equal: 30,000 orgs over 3 within 5 % of 10,000 each.
    const sizes = [0, 1, 2].map((k) => orgsOfShard(orgs, { index: k, count: 3 }).length);
    for (const s of sizes) expect(Math.abs(s - 10_000)).toBeLessThan(500);
  });
});

describe('--shard', () => {
  const base = ['--api-url', 'http://127.0.0.1:9/insights/directory/v1', '--api-key', 'k'];
  const load = (argv: string[], env: Record<string, string> = {}): LoadedConfig => {
    const r = loadConfig({ argv: [...base, ...argv], env, now: Date.now() });
    if (r.kind !== 'run') throw new Error('expected a run config');
    return r;
  };

  it('parses K/N and a StatefulSet pod name ending in -<ordinal>, from the flag or JUMPCLOUD_SHARD', () => {
    expect(parseShard('0/3')).toEqual({ index: 0, count: 3 });
    expect(parseShard('jumpcloud-collector-2/3')).toEqual({ index: 2, count: 3 });
    expect(load(['--org-ids', 'a,b,c', '--shard', '1/3']).config.shard).toEqual({ index: 1, count: 3 });
    expect(load(['--org-ids', 'a,b,c'], { JUMPCLOUD_SHARD: 'collector-0/2' }).config.shard).toEqual({
      index: 0,
      count: 2,
    });
    // 0/1 is every org: nothing to filter.
    expect(load(['--shard', '0/1']).config.shard).toBeUndefined();
  });

  it('refuses a bad shard with a message that names the fix', () => {
    const err = (argv: string[], env: Record<string, string> = {}): string => {
      try {
        load(argv, env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(err(['--org-ids', 'a', '--shard', '3/3'])).toMatch(
      /invalid --shard \(from flag --shard\): "3\/3": K is 3 but must be from 0 to 2/,
    );
    expect(err(['--org-ids', 'a', '--shard', '1'])).toMatch(/expected K\/N, e\.g\. 0\/3/);
    expect(err(['--org-ids', 'a', '--shard', '1/0'])).toMatch(/N must be from 1/);
    expect(err(['--org-ids', 'a'], { JUMPCLOUD_SHARD: 'collector/3' })).toMatch(
      /from env JUMPCLOUD_SHARD.*neither a number nor a pod name ending in -<ordinal>/,
    );
    expect(err(['--shard', '0/3'])).toMatch(
      /no --org-ids is set.*set --org-ids \(an MSP key or a service account\) or drop --shard/,
    );
  });

  it('warns when no org falls in the shard', () => {
    const r = load(['--org-ids', 'only-one', '--shard', `${(shardOf('only-one', 5) + 1) % 5}/5`]);
    expect(r.warnings.join('\n')).toMatch(/none of the 1 orgs of --org-ids falls in this shard/);
  });
});

describe('an empty shard', () => {
  it('stays up (idle, healthy) until stopped instead of exiting at once, and warns why', async () => {
    const org = 'only-org';
    const other = (shardOf(org, 4) + 1) % 4;
    const r = loadConfig({
      argv: [
        '--api-url',
        'http://127.0.0.1:9/insights/directory/v1',
        '--api-key',
        'k',
        '--org-ids',
        org,
        '--shard',
        `${other}/4`,
        '--state-dir',
        path.join(tmpdir(), 'never-used'),
      ],
      env: {},
      now: Date.now(),
    });
    if (r.kind !== 'run') throw new Error('expected a run config');
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: object, m?: string) => void warnings.push(m ?? '') };
    const stop = new AbortController();
    let done = false;
    const run = runCollector(r.config as CollectorConfig, { logger, signal: stop.signal }).then((res) => {
      done = true;
      return res;
    });
    // Idle once it said so: nothing ends the run but the stop (it waits on no timer).
    while (!warnings.some((w) => /no org of --org-ids falls in this shard: idle until stopped/.test(w)))
      await settled(1);
    await settled();
    expect(done).toBe(false);
    stop.abort();
    const res = await run;
    expect(res.exitCode).toBe(0);
    expect(res.streams).toEqual([]);
    const { createMetrics } = await import('../../../input/metrics.js');
    // An hour after the start with no stream: unhealthy ("nothing ever succeeded") unless the collector is idle by
    // design.
    let t = 0;
    const clock = { now: () => t, sleep: async () => {} };
    const idle = createMetrics({ clock, staleAfterMs: 1000, defaultMetrics: false, idle: true });
    const plain = createMetrics({ clock, staleAfterMs: 1000, defaultMetrics: false });
    t = 3_600_000;
    expect(idle.health().healthy).toBe(true);
    expect(plain.health().healthy).toBe(false);
  });
});

describe('three shards over 300 orgs', () => {
  it('collect every event exactly once together, and never the same org twice', async () => {
    const T = Date.UTC(2026, 2, 1, 12, 0, 0);
    const clock: Clock = {
      now: () => T,
      sleep: (ms, signal) =>
        new Promise((r) => {
          const t = setTimeout(r, Math.min(ms, 50));
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              r(undefined);
            },
            { once: true },
          );
        }),
    };
    const sim = await startSimulator({
      clock,
      orgs: ORGS,
      services: ['directory'],
      eventsPerMinute: 1,
      from: T - 3_600_000,
      indexDelay: { lateFraction: 0 },
    });
    cleanups.push(() => sim.close());
    const shards = await Promise.all(
      [0, 1, 2].map(async (k) => {
        const rx = await startForwardReceiver({ seed: k + 1 });
        cleanups.push(() => rx.close());
        const dir = mkdtempSync(path.join(tmpdir(), `shard-${k}-`));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        const r = loadConfig({
          argv: [
            '--api-url',
            sim.url,
            '--api-key',
            sim.apiKey,
            '--org-ids',
            ORGS.join(','),
            '--services',
            'directory',
            '--shard',
            `${k}/3`,
            '--state-dir',
            path.join(dir, 'state'),
            '--forward',
            `127.0.0.1:${rx.port}`,
            '--tag',
            'jc.{org}.{service}',
            '--once',
            '--since',
            '1h',
            '--lag',
            '1m',
            '--max-requests-per-second',
            '0',
            '--ack-settle',
            '0',
          ],
          env: {},
          now: T,
        });
        if (r.kind !== 'run') throw new Error('expected a run config');
        return { k, rx, config: r.config as CollectorConfig };
      }),
    );
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const results = await Promise.all(
      shards.map((s) => runCollector(s.config, { logger: quiet, clock, progressOut: { write: () => true } })),
    );
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    // Each collector sent only its own orgs (the tag names the org), and no org went to two collectors.
    const orgsOf = shards.map((s) => new Set(s.rx.records.map((rec) => rec.tag.split('.')[1]!)));
    const owner = new Map<string, number>();
    orgsOf.forEach((set, k) => {
      for (const org of set) {
        expect(shardOf(org, 3)).toBe(k);
        expect(owner.has(org)).toBe(false);
        owner.set(org, k);
      }
    });
    expect(orgsOf.map((s) => s.size).reduce((a, b) => a + b, 0)).toBe(300);
    expect(orgsOf.every((s) => s.size > 60)).toBe(true); // about 100 each
    // Together: every event of every org in [since, now − lag), each exactly once.
    const expected = expectedIds(
      sim,
      ORGS.map((orgId) => ({ orgId, service: 'directory' })),
      T - 3_600_000,
      T - 60_000 - 1,
    );
    const received = shards.flatMap((s) => s.rx.ids());
    const c = compareIds(received, expected);
    expectNoLoss(c, expected.size);
    expect(c.extraCopies).toBe(0);
    expect(expected.size).toBeGreaterThan(300 * 50);
  }, 120_000);
});
