// Repeats per kill -9 of the collector, bounded by acks. The real CLI runs against the simulator
// and the protocol-level receiver modelling a threaded Fluent Bit (acked records reach storage every 250 ms; an
// HTTP server answering /api/v1/uptime). The collector is killed 10 times while chunks are being acked — in a
// backfill at full speed and in live mode — and restarted; a last run completes. Measured per kill: the events
// sent twice.
// - with --fluent-bit-http (Fluent Bit stays up): the acks that had not settled at the kill are confirmed from the
//   uptime at the restart, and the chunks written and never acked are decided from the input's stored-records
//   counter (/api/v1/metrics) against the forward ledger: nothing stored is sent again, 0 repeats;
// - without it: at most the events acked within --ack-settle before the kill, plus one send;
// - a kill -9 of Fluent Bit just before the kill of the collector: nothing lost (the uptime shows the restart, so
//   the unsettled acks are sent again, not confirmed).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatClockSpec, parseClockSpec } from '../../../input/clock.js';
import { prng } from '../../../input/simulator/render.js';
import { startSimulator } from '../../../input/simulator/server.js';
import { createForwardClient } from '../../../input/forward/client.js';
import { startForwardReceiver, type ForwardReceiver } from '../../support/forward-receiver.js';
import { memoryLogger } from '../../support/fakes.js';
import {
  compareIds,
  expectNoLoss,
  expectedIds,
  spawnCollector,
  until,
  type CollectorChild,
} from '../../support/collector.js';

const MIN = 60_000;
const DEFAULT_KILLS = 10;
const KILLS = DEFAULT_KILLS;
const SETTLE_MS = 500;
const SEND = 2000; // the engine's sendBatch: one send
/**
 * How late the collector's settle timer may fire on this busy 2-core machine: an ack settles (and is journaled)
 * after --ack-settle plus the event loop's delay, so the bound counts the acks of that much longer.
 */
const LOOP_SLACK_MS = 500;

let children: ChildProcess[] = [];
let cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanup.reverse()) await f();
  children = [];
  cleanup = [];
});

interface KillRun {
  /** Copies of already stored events that arrived after each kill (sent again by the next runs). */
  readonly repeatsPerKill: number[];
  /**
   * Events Fluent Bit acked within SETTLE_MS (+ LOOP_SLACK_MS) before each kill, plus one send: the bound without the
   * check.
   */
  readonly boundPerKill: number[];
  /** Most entries of one chunk. */
  readonly maxChunkEntries: number;
  /**
   * Events stored in each run that its id journal did not hold at the kill (neither delivered nor acked@): what the
   * kill makes unknown.
   */
  readonly unjournaledPerKill: number[];
  readonly events: number;
  readonly log: string;
}

/** Distinct ids the receiver stored, parsed incrementally (re-parsing 100,000 records every 50 ms starves the loop). */
const seenIds = new WeakMap<ForwardReceiver, { set: Set<string>; parsed: number }>();
function distinct(rx: ForwardReceiver): number {
  let s = seenIds.get(rx);
  if (!s) seenIds.set(rx, (s = { set: new Set(), parsed: 0 }));
  for (; s.parsed < rx.records.length; s.parsed++) {
    const id = collectorId(rx.records[s.parsed]!);
    if (id !== undefined) s.set.add(id);
  }
  return s.set.size;
}

/** Tag of the records of another sender on the same input (not the collector's). */
const OTHER_TAG = 'other.sender';

/** The DI event id of a record the collector sent; undefined for another sender's. */
function collectorId(r: ForwardReceiver['records'][number]): string | undefined {
  return r.tag === OTHER_TAG ? undefined : (JSON.parse(String(r.record['message'])) as { id: string }).id;
}

/** Another client sending one record to the same forward input every `everyMs` until stopped. */
function otherSender(port: number, everyMs: number): () => Promise<void> {
  const client = createForwardClient({ target: { kind: 'tcp', host: '127.0.0.1', port }, logger: memoryLogger() });
  let n = 0;
  const timer = setInterval(() => {
    void client
      .send(OTHER_TAG, [
        {
          time: { sec: Math.floor(Date.now() / 1000), nsec: 0 },
          record: { message: JSON.stringify({ id: `other-${n++}` }) },
        },
      ])
      .catch(() => {});
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await client.close(5000);
  };
}

/** Waits until the receiver has written `n` more acks than now (traffic is flowing), or the child exited. */
async function acksGrow(rx: ForwardReceiver, n: number, child: CollectorChild, timeoutMs: number): Promise<void> {
  const acks = (): number => rx.ackLog.reduce((k, a) => k + (a.tag === OTHER_TAG ? 0 : 1), 0);
  const target = acks() + n;
  let exited = false;
  void child.exited.then(() => (exited = true));
  await until(() => acks() >= target || exited, timeoutMs, `${n} more acks of the collector`);
}

async function killRun(
  mode: 'backfill' | 'live',
  http: boolean,
  seed: number,
  opts: { kills?: number; otherSenderEveryMs?: number } = {},
): Promise<KillRun> {
  const KILLS = opts.kills ?? DEFAULT_KILLS;
  const random = prng(seed);
  const org = '5f0c1a2b3c4d5e6f7a8b9c0d';
  const live = mode === 'live';
  // live: an accelerated clock (120×) with events arriving all along, polled every minute of it (0.5 s real);
  // backfill: two days of events already there, 10,000-event pages, 4 slices, no page latency (full speed).
  const V = Date.parse('2026-03-01T12:00:00Z');
  const spec = live ? formatClockSpec(V, Date.now(), 120) : undefined;
  const clock = spec ? parseClockSpec(spec) : undefined;
  const since = live ? V - 2 * MIN : Date.now() - 2 * 24 * 60 * MIN;
  const to = live ? V + 90 * MIN : Date.now() - 30 * MIN;
  const sim = await startSimulator({
    seed: 40 + seed,
    ...(clock ? { clock } : {}),
    orgs: [org],
    services: ['directory'],
    eventsPerMinute: live ? 1500 : 45,
    from: since,
    to,
    pageLatencyMs: live ? 20 : 0,
    indexDelay: { lateFraction: 0 },
  });
  cleanup.push(() => sim.close());
  const rx = await startForwardReceiver({ seed, commitEveryMs: 250, httpUptime: true });
  cleanup.push(() => rx.close());
  if (opts.otherSenderEveryMs !== undefined) cleanup.push(otherSender(rx.port!, opts.otherSenderEveryMs));
  // Fluent Bit was up before the collector: its uptime counts whole seconds, so acks in its first 2 s cannot be
  // told apart from a Fluent Bit started just before them (they would be sent again, correctly but needlessly).
  await new Promise((r) => setTimeout(r, 2100));
  const stateDir = mkdtempSync(path.join(tmpdir(), 'kill-repeats-'));
  cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const logDir = mkdtempSync(path.join(tmpdir(), 'kill-repeats-logs-'));
  const expected = expectedIds(sim, [{ orgId: org, service: 'directory' }], since, to);
  const args = [
    '--import',
    'tsx',
    'input/cli.ts',
    '--api-url',
    sim.url,
    '--org-ids',
    org,
    '--services',
    'directory',
    '--forward',
    `127.0.0.1:${rx.port}`,
    '--state-dir',
    stateDir,
    '--since',
    new Date(since).toISOString(),
    '--lag',
    '1m',
    '--overlap',
    '1h',
    '--interval',
    '1m',
    '--slices',
    '4',
    '--request-timeout',
    '30s',
    '--log-level',
    'info',
    '--ack-settle',
    `${SETTLE_MS}ms`,
    ...(http ? ['--fluent-bit-http', `127.0.0.1:${rx.httpPort}`] : []),
  ];
  const env = { JUMPCLOUD_API_KEY: sim.apiKey, ...(spec ? { FLUENT_BIT_JUMPCLOUD_CLOCK: spec } : {}) };
  let run = 0;
  let log = '';
  const start = (): CollectorChild => {
    const c = spawnCollector(args, env, path.join(logDir, `run-${String(run++).padStart(2, '0')}.log`));
    children.push(c.child);
    void c.exited.then(() => (log += c.log()));
    return c;
  };
  const storedAtKill: number[] = [];
  const boundPerKill: number[] = [];
  const unjournaledPerKill: number[] = [];
  const journaledInRun: Set<string>[] = [];
  const journalLines: Map<string, string>[] = [];
  for (let k = 0; k < KILLS; k++) {
    const p = start();
    await p.ready;
    // Killed while chunks are being acked: after 2 to 12 more acks (live: 1 to 4).
    await acksGrow(rx, live ? 1 + Math.floor(random() * 4) : 2 + Math.floor(random() * 11), p, 60_000);
    const killAt = Date.now();
    p.child.kill('SIGKILL');
    await p.exited;
    boundPerKill.push(
      rx.ackLog
        .filter((a) => a.tag !== OTHER_TAG && a.at >= killAt - SETTLE_MS - LOOP_SLACK_MS)
        .reduce((n, a) => n + a.entries, 0) + SEND,
    );
    // Fluent Bit stays up: what it acked reaches storage at its next ring flush.
    await new Promise((r) => setTimeout(r, 300));
    storedAtKill.push(rx.records.length);
    distinct(rx);
    const journal = path.join(stateDir, org, 'directory.ids');
    const lines = existsSync(journal) ? readFileSync(journal, 'latin1').split('\n') : [];
    // Delivered or acked@ (sent@ lines are chunks written, perhaps stored: the ledger decides them at the restart).
    const inJournal = new Set(lines.filter((l) => !l.includes('\tsent@')).map((l) => l.split('\t')[0]!));
    journalLines.push(new Map(lines.map((l) => [l.split('\t')[0]!, l.split('\t').slice(1).join(' ')])));
    // Of what was stored since the previous kill: the events whose fate this run's journal did not know.
    let unjournaled = 0;
    const from = k === 0 ? 0 : storedAtKill[k - 1]!;
    const journaled = new Set<string>();
    for (let i = from; i < rx.records.length; i++) {
      const id = collectorId(rx.records[i]!);
      if (id === undefined) continue;
      if (!inJournal.has(id)) unjournaled++;
      else journaled.add(id);
    }
    journaledInRun.push(journaled);
    unjournaledPerKill.push(unjournaled);
  }
  const last = start();
  await last.ready;
  try {
    await until(
      () => (clock ? clock.now() > to + 2 * MIN : true) && distinct(rx) >= expected.size,
      90_000,
      'every event after the kills',
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}: ${distinct(rx)} of ${expected.size} ids; last run's log: ${last.log().slice(-3000)}`,
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  last.child.kill('SIGTERM');
  expect(await last.exited).toBe(0);
  rx.commit();
  const all = rx.records.map(collectorId); // by record index (another sender's: undefined)
  const ids = all.filter((id): id is string => id !== undefined);
  expectNoLoss(compareIds(ids, expected), expected.size);
  // A copy of an id already stored, arriving in run k + 1, is a repeat caused by kill k (run 0 has none: within a
  // run nothing is sent twice). Ids the journal held at a kill must never be sent again.
  const seenBefore = new Set<string>();
  const repeatsPerKill = new Array<number>(KILLS).fill(0);
  let withinFirstRun = 0,
    journaledRepeats = 0;
  all.forEach((id, i) => {
    if (id === undefined) return;
    if (!seenBefore.has(id)) return void seenBefore.add(id);
    const run = storedAtKill.findIndex((at) => i < at); // -1: the last run
    if (run === 0) return void withinFirstRun++;
    const k = (run < 0 ? KILLS : run) - 1;
    repeatsPerKill[k]!++;
    if (journaledInRun.some((j, r) => r <= k && j.has(id))) {
      if (++journaledRepeats <= 3)
        console.log(
          `sent again although journaled: ${id} (event time ${expected.get(id)}), copy ${i} after kill ${k}; ` +
            `journal lines at the kills: ${journalLines.map((m, r) => `${r}: ${m.get(id) ?? '-'}`).join(' | ')}`,
        );
    }
  });
  expect({ withinFirstRun, journaledRepeats }).toEqual({ withinFirstRun: 0, journaledRepeats: 0 });
  rmSync(logDir, { recursive: true, force: true }); // passed this far: a failure keeps the logs
  const maxChunkEntries = rx.ackLog.reduce((m, a) => (a.tag === OTHER_TAG ? m : Math.max(m, a.entries)), 0);
  return { repeatsPerKill, boundPerKill, maxChunkEntries, unjournaledPerKill, events: expected.size, log };
}

/** What the restarts after the kills decided from the forward ledger: events in flight found stored / sent again. */
function ledgerDecisions(log: string): string {
  const out: string[] = [];
  const undecided: string[] = [];
  for (const line of log.split('\n')) {
    if (line.includes('cannot tell which chunks written') || line.includes('no baseline of Fluent Bit')) {
      try {
        undecided.push((JSON.parse(line) as { reason?: string }).reason ?? '?');
      } catch {
        undecided.push('?');
      }
    }
    if (!line.includes('events written to Fluent Bit just before the collector stopped')) continue;
    try {
      const o = JSON.parse(line) as { stored?: number; resent?: number };
      out.push(`${o.stored ?? '?'}/${o.resent ?? '?'}`);
    } catch {
      out.push('?');
    }
  }
  return (
    (out.length > 0 ? `; in flight at the kills, found stored/sent again [${out.join(', ')}]` : '') +
    (undecided.length > 0 ? `; undecided: ${undecided.join(' | ')}` : '')
  );
}

const summary = (r: KillRun): string =>
  `${r.events} events; stored in the run and unknown to its journal at each kill ` +
  `[${r.unjournaledPerKill.join(', ')}] ` +
  `(total ${r.unjournaledPerKill.reduce((a, b) => a + b, 0)}); repeats arriving after each kill ` +
  `[${r.repeatsPerKill.join(', ')}] (total ${r.repeatsPerKill.reduce((a, b) => a + b, 0)}); ` +
  `acked within ${SETTLE_MS} + ${LOOP_SLACK_MS} ms before each kill + one send [${r.boundPerKill.join(', ')}]; ` +
  `largest chunk ${r.maxChunkEntries} events${ledgerDecisions(r.log)}`;

describe('repeats per kill -9 of the collector', () => {
  for (const mode of ['backfill', 'live'] as const) {
    it(`${mode}, --fluent-bit-http, Fluent Bit up: ${KILLS} kills, nothing lost, nothing stored is sent again`, async () => {
      const r = await killRun(mode, true, mode === 'live' ? 2 : 1);
      console.log(`kill-repeats ${mode} with --fluent-bit-http: ${summary(r)}`);
      expect(r.log).toContain("Fluent Bit's input counted the first ones as stored");
      expect(r.log).not.toContain('cannot tell which chunks written');
      expect(r.log).not.toContain('Fluent Bit restarted since some acks');
      // The chunks in flight at each kill (written, perhaps stored, their ack never read) are decided exactly.
      expect(r.repeatsPerKill, summary(r)).toEqual(new Array<number>(KILLS).fill(0));
    }, 480_000);

    it(
      `${mode}, no HTTP server: ${KILLS} kills, nothing lost, each kill leaves unknown at most the events acked ` +
        `within --ack-settle + one send`,
      async () => {
        const r = await killRun(mode, false, mode === 'live' ? 4 : 3);
        console.log(`kill-repeats ${mode} without --fluent-bit-http: ${summary(r)}`);
        r.unjournaledPerKill.forEach((n, k) =>
          expect(n, `kill ${k}: ${summary(r)}`).toBeLessThanOrEqual(r.boundPerKill[k]!),
        );
      },
      480_000,
    );
  }

  it(
    'another sender on the same input: the ledger decides nothing (its counter moves without the collector); ' +
      'nothing lost',
    async () => {
      const r = await killRun('backfill', true, 5, { kills: 3, otherSenderEveryMs: 100 });
      console.log(`kill-repeats backfill with --fluent-bit-http and another sender: ${summary(r)}`);
      expect(r.log).toMatch(/kept storing records for \d+ ms while the collector sent nothing/);
      expect(r.log).not.toContain("Fluent Bit's input counted the first ones as stored");
      // What is left undecided is sent again, as without the ledger: acked chunks are still confirmed from the uptime.
      r.unjournaledPerKill.forEach((n, k) =>
        expect(n, `kill ${k}: ${summary(r)}`).toBeLessThanOrEqual(r.boundPerKill[k]! + 8 * r.maxChunkEntries),
      );
    },
    480_000,
  );

  it(
    'Fluent Bit killed just before the collector: the uptime shows its restart, so unsettled acks are sent again; ' +
      'nothing lost',
    async () => {
      const to = Date.now() - 30 * MIN;
      const since = to - 24 * 60 * MIN;
      const org = '5f0c1a2b3c4d5e6f7a8b9c0e';
      const sim = await startSimulator({
        seed: 61,
        orgs: [org],
        services: ['directory'],
        eventsPerMinute: 60,
        from: since,
        to,
        pageLatencyMs: 0,
        indexDelay: { lateFraction: 0 },
      });
      cleanup.push(() => sim.close());
      const rx = await startForwardReceiver({ seed: 9, commitEveryMs: 250, httpUptime: true });
      cleanup.push(() => rx.close());
      const stateDir = mkdtempSync(path.join(tmpdir(), 'kill-both-'));
      cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
      const expected = expectedIds(sim, [{ orgId: org, service: 'directory' }], since, to);
      const args = [
        '--import',
        'tsx',
        'input/cli.ts',
        '--api-url',
        sim.url,
        '--org-ids',
        org,
        '--services',
        'directory',
        '--forward',
        `127.0.0.1:${rx.port}`,
        '--state-dir',
        stateDir,
        '--since',
        new Date(since).toISOString(),
        '--lag',
        '1m',
        '--slices',
        '4',
        '--log-level',
        'info',
        '--fluent-bit-http',
        `127.0.0.1:${rx.httpPort}`,
        '--once',
      ];
      let lost = 0;
      let log = '';
      for (let k = 0; k < 3; k++) {
        const c = spawnCollector(args, { JUMPCLOUD_API_KEY: sim.apiKey }, path.join(stateDir, `run-${k}.log`));
        children.push(c.child);
        await c.ready;
        await acksGrow(rx, 4 + 3 * k, c, 60_000);
        // Fluent Bit dies with acked records still in its ring; the collector dies before the connection loss
        // reaches it.
        lost += rx.crash();
        c.child.kill('SIGKILL');
        await c.exited;
        log += c.log();
      }
      expect(lost).toBeGreaterThan(0);
      const c = spawnCollector(args, { JUMPCLOUD_API_KEY: sim.apiKey }, path.join(stateDir, 'run-last.log'));
      children.push(c.child);
      expect(await c.exited).toBe(0);
      log += c.log();
      rx.commit();
      expect(log).toContain('Fluent Bit restarted since some acks');
      const cmp = compareIds(rx.ids(), expected);
      expectNoLoss(cmp, expected.size);
      console.log(
        `kill-repeats both: ${expected.size} events, ${lost} acked records lost by 3 Fluent Bit kills, all ` +
          `delivered; ${cmp.extraCopies} repeats`,
      );
    },
    480_000,
  );
});
