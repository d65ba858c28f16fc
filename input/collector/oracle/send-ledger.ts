// Which chunks in flight at a kill -9 of the collector Fluent Bit had stored, found exactly (--fluent-bit-http).
// Fluent Bit counts the records (and their bytes) each input stored (records.ts); its forward input
// stores one connection's chunks in the order they were written, each whole or not at all. So the ledger keeps a
// baseline of those counters, taken when nothing of ours was in flight, and the entries and bytes of every chunk
// written since, in write order. At the next start, with the same Fluent Bit still running, the counters have grown
// by D records and E bytes: when the chunks from the first write on add up to exactly D entries and E bytes, they
// were stored and the others were not. Both must agree: an unrelated count (another sender, a late record) that
// matches one is very unlikely to match the other too. The id journals (delivery/) hold each written chunk's ids
// under its sequence number (sent@); a restart asks delivered(seq).
//
// File `<stateDir>/forward.ledger`, one line each:
//   B <firstSeq> <at> <records> <bytes>   baseline: the input had stored <records> (<bytes>) at <at> (wall clock ms);
//                                 the writes below are sequence numbers firstSeq, firstSeq + 1, …
//   D <from> <to>                 sequence numbers [from, to) were found stored at the start that wrote the file
//   W <entries> <bytes> <connection>   one chunk written (appended before the socket write: a kill -9 keeps it)
//   X                             void from here on: the writes span connections (a resend may be stored twice)
// Anything that does not add up (another sender on the input, a reconnect, a Fluent Bit restart, a torn file)
// decides nothing: the chunks are sent again, as without the ledger. A start reads the counters once they stood
// still for the settle time: the dead connection is then taken as read to its end. (Counting its chunks as possibly
// stored later does not work: they are sent again with the same events, as chunks of the same records and bytes,
// so every later count would fit two readings and nothing would be decided.)
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { JumpCloudError } from '../../errors.js';
import type { Clock, Logger } from '../../types.js';
import type { WriteLedger } from '../delivery/index.js';
import type { RecordsReading } from './records.js';
import type { UptimeAnswer } from './uptime.js';

export const LEDGER_FILE = 'forward.ledger';

/** A ledger file, parsed. */
export interface LedgerFile {
  readonly baseline:
    { readonly firstSeq: number; readonly at: number; readonly records: number; readonly bytes: number } | undefined;
  /** Ranges [from, to) found stored by an earlier start. */
  readonly delivered: ReadonlyArray<readonly [number, number]>;
  /** Entries of each chunk written since the baseline, in write order, and their bytes. */
  readonly writes: readonly number[];
  readonly bytes: readonly number[];
  /** Why the writes cannot be resolved, if so. */
  readonly void?: string;
}

export function parseLedger(text: string): LedgerFile {
  let baseline: LedgerFile['baseline'];
  const delivered: Array<readonly [number, number]> = [];
  const writes: number[] = [];
  const bytes: number[] = [];
  let connection: number | undefined;
  let why: string | undefined;
  const end = text.lastIndexOf('\n') + 1; // a torn last line: its write had not reached the socket
  for (const line of text.slice(0, end).split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const n = f.slice(1).map(Number);
    if (n.some((v) => !Number.isSafeInteger(v) || v < 0)) {
      why ??= `malformed line "${line.slice(0, 40)}"`;
      continue;
    }
    if (f[0] === 'B' && n.length === 4 && baseline === undefined && writes.length === 0) {
      baseline = { firstSeq: n[0]!, at: n[1]!, records: n[2]!, bytes: n[3]! };
    } else if (f[0] === 'D' && n.length === 2 && n[0]! <= n[1]!) delivered.push([n[0]!, n[1]!]);
    else if (f[0] === 'W' && n.length === 3 && n[0]! > 0) {
      if (connection !== undefined && n[2] !== connection)
        why ??= 'the chunks were written over more than one connection';
      connection = n[2];
      writes.push(n[0]!);
      bytes.push(n[1]!);
    } else if (f[0] === 'X' && f.length === 1) why ??= 'the collector reconnected to Fluent Bit since the baseline';
    else why ??= `unexpected line "${line.slice(0, 40)}"`;
  }
  if (baseline === undefined && writes.length > 0) why ??= 'no baseline';
  return { baseline, delivered, writes, bytes, ...(why !== undefined ? { void: why } : {}) };
}

/**
 * How many of the writes, from the first on, add up to exactly `stored` entries; undefined when no prefix does.
 * Every write has at least one entry, so the prefix sums strictly increase and at most one matches.
 */
export function storedPrefix(writes: readonly number[], stored: number): number | undefined {
  let sum = 0;
  for (let k = 0; k <= writes.length; k++) {
    if (sum === stored) return k;
    if (sum > stored || k === writes.length) return undefined;
    sum += writes[k]!;
  }
  return undefined;
}

export interface SendLedgerOptions {
  readonly stateDir: string;
  /** The input's counter (FluentBitRecords). */
  readonly records: { readonly input: string; read(): Promise<RecordsReading> };
  /** Fluent Bit's uptime (FluentBitUptime). */
  readonly uptime: { answer(notBefore: number): Promise<UptimeAnswer> };
  /** --ack-settle: the counter must stand at least this long (STABLE_FOR_MS when a start decides chunks). */
  readonly settleMs: number;
  readonly logger: Logger;
  /** The clock of the readings (the wall clock: the forward client's). */
  readonly clock: Clock;
  /** How long a start waits for the counter to stand still (default 10 s). */
  readonly stableWithinMs?: number;
  /** How long the counter must stand still when a start decides chunks (default STABLE_FOR_MS; at least settleMs). */
  readonly stableForMs?: number;
}

/**
 * How long the input's counter must stand still before a start takes it as final. Fluent Bit counts a chunk when
 * its engine appends it, after the filters ran over the chunks before it: on a busy host a chunk of ~1,000 events
 * can wait behind the wasm filter for more than the 500 ms of --ack-settle (measured with Fluent Bit 4.2.8: pages
 * judged not stored that it stored a moment later, and sent again). Only a start with chunks to decide (after a
 * kill) waits this long; such a start is rare, and two seconds cost nothing.
 */
export const STABLE_FOR_MS = 2_000;

/** What a start found out about the chunks written before it. */
export interface LedgerResolution {
  /** Chunks (and their entries) found stored, found not stored; both 0 when nothing was decided. */
  readonly stored: number;
  readonly storedEntries: number;
  readonly notStored: number;
  readonly notStoredEntries: number;
  /** Why nothing was decided, if so. */
  readonly undecided?: string;
}

/** The counter does not stand still: something else sends to that input. */
export class LedgerUnstableError extends JumpCloudError {
  static override readonly code: string = 'LEDGER_UNSTABLE';
}

/**
 * After a failed baseline (the counter moved without us, or Fluent Bit did not answer), the next one waits this long.
 */
const RETRY_BASELINE_MS = 30_000;

const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

/** The old ledger's writes decided against a reading of the counter: which were stored (a prefix), or why none is. */
async function decide(
  old: LedgerFile,
  now: RecordsReading,
  uptime: SendLedgerOptions['uptime'],
): Promise<{ resolution: LedgerResolution; decided?: readonly [number, number]; stored?: readonly [number, number] }> {
  const total = sum(old.writes);
  const undecided = (why: string) => ({
    resolution: { stored: 0, storedEntries: 0, notStored: old.writes.length, notStoredEntries: total, undecided: why },
  });
  if (old.void !== undefined) return undecided(old.void);
  const b = old.baseline!;
  let startedBefore: number;
  try {
    startedBefore = (await uptime.answer(now.at)).startedBefore;
  } catch (err) {
    return undecided((err as Error).message);
  }
  if (!(startedBefore < b.at)) return undecided('Fluent Bit restarted since the baseline (its uptime is shorter)');
  const records = now.records - b.records;
  const k = storedPrefix(old.writes, records);
  if (k === undefined) {
    return undecided(
      `Fluent Bit's input stored ${records} records since the baseline, which is no count of the chunks written ` +
        `first (${old.writes.length} chunks, ${total} entries): another sender on that input, or records dropped`,
    );
  }
  const kBytes = sum(old.bytes.slice(0, k));
  if (kBytes !== now.bytes - b.bytes) {
    return undecided(
      `Fluent Bit's input stored ${records} records since the baseline, as many as the first ${k} chunks written, ` +
        `but ${now.bytes - b.bytes} bytes, not their ${kBytes}: another sender on that input`,
    );
  }
  const storedEntries = sum(old.writes.slice(0, k));
  return {
    resolution: {
      stored: k,
      storedEntries,
      notStored: old.writes.length - k,
      notStoredEntries: total - storedEntries,
    },
    decided: [b.firstSeq, b.firstSeq + old.writes.length],
    stored: [b.firstSeq, b.firstSeq + k],
  };
}

export class SendLedger implements WriteLedger {
  private fd = -1;
  private nextSeq: number;
  /** Sequence numbers of this baseline's writes start here; writes are appended while not void. */
  private firstSeq: number;
  private connection: number | undefined;
  private void = false;
  private writesSinceBaseline = 0;
  /** Written and neither settled nor released: a new baseline waits until there are none. */
  private readonly open = new Set<number>();
  private rebaselining: Promise<void> | undefined;
  /** A failed baseline was logged (once, until one succeeds); the next try waits until then (clock time). */
  private warned = false;
  private retryAt = 0;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly opts: SendLedgerOptions,
    /** Found stored at this start (and the start before): true for seqs in these. */
    private readonly storedRanges: ReadonlyArray<readonly [number, number]>,
    /** Decided at this start: a seq in here and not in storedRanges was not stored. */
    private readonly decided: readonly [number, number] | undefined,
    firstSeq: number,
  ) {
    this.firstSeq = this.nextSeq = firstSeq;
  }

  /**
   * Reads the ledger the last run left, decides its chunks from Fluent Bit's counter and uptime, and takes a new
   * baseline before anything is written. When Fluent Bit cannot be read (or its counter keeps moving), nothing is
   * decided and the ledger takes its baseline at the first moment nothing is in flight.
   */
  static async open(opts: SendLedgerOptions): Promise<{ ledger: SendLedger; resolution: LedgerResolution }> {
    const file = path.join(opts.stateDir, LEDGER_FILE);
    // The old ledger stays until the new baseline replaces it (one rename): a start killed while it reads the
    // counter wrote nothing, so the next start decides the same chunks against a later (no less complete) counter.
    const old = parseLedger(existsSync(file) ? readFileSync(file, 'latin1') : '');
    let resolution: LedgerResolution = { stored: 0, storedEntries: 0, notStored: 0, notStoredEntries: 0 };
    let decided: readonly [number, number] | undefined;
    const stored: Array<readonly [number, number]> = [...old.delivered.slice(-1)];
    let now: RecordsReading | undefined;
    try {
      // Chunks of the last run to decide may still wait behind the filter: give them STABLE_FOR_MS to be counted.
      const forMs = old.writes.length > 0 ? (opts.stableForMs ?? STABLE_FOR_MS) : 0;
      now = await SendLedger.stableReading(opts, () => false, forMs);
    } catch (err) {
      const total = sum(old.writes);
      resolution = {
        ...resolution,
        notStored: old.writes.length,
        notStoredEntries: total,
        undecided: (err as Error).message,
      };
    }
    // No reading, or nothing written since the baseline (or no ledger): nothing to decide.
    if (now !== undefined && old.writes.length > 0) {
      const d = await decide(old, now, opts.uptime);
      resolution = d.resolution;
      decided = d.decided;
      if (d.stored) stored.push(d.stored);
    }
    // Sequence numbers never repeat, even when a ledger was lost: an id journal may still hold older ones.
    const firstSeq = Math.max((old.baseline?.firstSeq ?? 0) + old.writes.length, opts.clock.now() * 1000);
    const ledger = new SendLedger(file, opts, stored, decided, firstSeq);
    if (now) ledger.baseline(now);
    else {
      // No baseline this run: its writes must never be counted against the old one.
      SendLedger.voidFile(file);
      ledger.void = true;
    }
    return { ledger, resolution };
  }

  /** Replaces a ledger by a void one (when no baseline can be taken this run). */
  static voidFile(file: string): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, 'X\n');
    renameSync(tmp, file);
  }

  /**
   * The input's counter once it stood still for the settle time (at least 300 ms, past a ring flush; at least
   * `forMs`) with nothing of ours written meanwhile.
   */
  private static async stableReading(
    opts: SendLedgerOptions,
    wrote: () => boolean,
    forMs = 0,
  ): Promise<RecordsReading> {
    const waitMs = Math.max(opts.settleMs, 300, forMs);
    const withinMs = opts.stableWithinMs ?? Math.max(10_000, 3 * waitMs);
    const deadline = opts.clock.now() + withinMs;
    let prev = await opts.records.read();
    for (;;) {
      await opts.clock.sleep(waitMs);
      const next = await opts.records.read();
      if (next.records === prev.records && next.bytes === prev.bytes && !wrote()) return next;
      if (wrote()) throw new LedgerUnstableError('the collector wrote while the counter was read');
      if (opts.clock.now() >= deadline) {
        throw new LedgerUnstableError(
          `Fluent Bit's input "${opts.records.input}" kept storing records for ${withinMs} ms while the collector ` +
            `sent nothing (${prev.records} → ${next.records}): does something else send to it?`,
        );
      }
      prev = next;
    }
  }

  /**
   * Whether the chunk written as `seq` was stored: true, false, or undefined when this start could not tell
   * (then it is sent again).
   */
  delivered(seq: number): boolean | undefined {
    for (const [from, to] of this.storedRanges) if (seq >= from && seq < to) return true;
    if (this.decided && seq >= this.decided[0] && seq < this.decided[1]) return false;
    return undefined;
  }

  /** A chunk of `entries` (`bytes` of msgpack) is about to be written on `connection`: journals it; returns its seq. */
  written(entries: number, bytes: number, connection: number): number {
    const seq = this.nextSeq++;
    this.open.add(seq);
    if (this.void || this.fd < 0) return seq;
    if (this.connection !== undefined && connection !== this.connection) {
      // A chunk written before may be stored twice (its first write stored, the ack lost): no count adds up.
      this.void = true;
      writeSync(this.fd, 'X\n');
      return seq;
    }
    this.connection = connection;
    writeSync(this.fd, `W ${entries} ${bytes} ${connection}\n`);
    this.writesSinceBaseline++;
    return seq;
  }

  /** The chunk written as `seq` was acked and its ack settled (or its send failed: it will be written anew). */
  done(seq: number): void {
    if (!this.open.delete(seq) || this.open.size > 0) return;
    // Nothing of ours in flight: a void ledger, or one grown long, starts again from a fresh baseline.
    if (this.void || this.writesSinceBaseline >= 10_000) this.rebaseline();
  }

  /** Resolves once the new baseline under way (if any) is taken or given up. */
  async idle(): Promise<void> {
    await this.rebaselining;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private baseline(r: RecordsReading): void {
    const lines = [
      `B ${this.nextSeq} ${r.at} ${r.records} ${r.bytes}`,
      ...this.storedRanges.map(([a, b]) => `D ${a} ${b}`),
    ];
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, this.file);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.firstSeq = this.nextSeq;
    this.connection = undefined;
    this.void = false;
    this.writesSinceBaseline = 0;
  }

  private rebaseline(): void {
    if (this.rebaselining || this.closed || this.opts.clock.now() < this.retryAt) return;
    this.rebaselining = this.takeBaseline().finally(() => {
      this.rebaselining = undefined;
    });
  }

  private async takeBaseline(): Promise<void> {
    const seq = this.nextSeq;
    try {
      const r = await SendLedger.stableReading(this.opts, () => this.nextSeq !== seq);
      // Written since (no await between this check and the new file): the next idle moment tries again.
      if (this.nextSeq === seq && !this.closed) {
        this.baseline(r);
        this.warned = false;
        this.opts.logger.debug(
          { firstSeq: this.firstSeq, records: r.records },
          "forward ledger: new baseline of Fluent Bit's input counter",
        );
      }
    } catch (err) {
      if (this.nextSeq === seq) this.retryAt = this.opts.clock.now() + RETRY_BASELINE_MS;
      if (this.nextSeq === seq && !this.warned && !this.closed) {
        this.warned = true;
        this.opts.logger.warn(
          { error: (err as Error).message },
          "forward ledger: cannot take a new baseline of Fluent Bit's input counter; chunks in flight at a kill " +
            'will be sent again',
        );
      }
    }
  }
}
