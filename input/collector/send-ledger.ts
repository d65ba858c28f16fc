// Which chunks in flight at a kill -9 of the collector Fluent Bit had stored, found exactly (--fluent-bit-http).
// Fluent Bit counts the records (and their bytes) each input stored (fluent-bit-records.ts); its forward input
// stores one connection's chunks in the order they were written, each whole or not at all. So the ledger keeps a
// baseline of those counters, taken when nothing of ours was in flight, and the entries and bytes of every chunk
// written since, in write order. At the next start, with the same Fluent Bit still running, the counters have grown
// by D records and E bytes: when the chunks from the first write on add up to exactly D entries and E bytes, they
// were stored and the others were not. Both must agree: an unrelated count (another sender, a late record) that
// matches one is very unlikely to match the other too. The id journals
// (seen-ids.ts) hold each written chunk's ids under its sequence number (sent@); they ask delivered(seq).
//
// File `<stateDir>/forward.ledger`, one line each:
//   B <firstSeq> <at> <records> <bytes>   baseline: the input had stored <records> (<bytes>) at <at> (Date.now());
//                                 the writes below are sequence numbers firstSeq, firstSeq + 1, …
//   D <from> <to>                 sequence numbers [from, to) were found stored at the start that wrote the file
//   P <entries> <bytes>           a chunk the last run wrote that was not stored at this start, in write order: the
//                                 dead connection's rest, which Fluent Bit may still store later (counted then too)
//   T                             the start that wrote the file could not decide the last run's chunks, some of
//                                 which Fluent Bit may still store later: the next start decides nothing
//   W <entries> <bytes> <connection>   one chunk written (appended before the socket write: a kill -9 keeps it)
//   X                             void from here on: the writes span connections (a resend may be stored twice)
// Anything that does not add up (another sender on the input, a reconnect, a Fluent Bit restart, a torn file)
// decides nothing: the chunks are sent again, as without the ledger.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../types.js';
import { FluentBitInputMissingError, type RecordsReading } from './fluent-bit-records.js';
import type { UptimeAnswer } from './fluent-bit-uptime.js';

export const LEDGER_FILE = 'forward.ledger';

/** A ledger file, parsed. */
export interface LedgerFile {
  readonly baseline: { readonly firstSeq: number; readonly at: number; readonly records: number; readonly bytes: number } | undefined;
  /** Ranges [from, to) found stored by an earlier start. */
  readonly delivered: ReadonlyArray<readonly [number, number]>;
  /** Entries of each chunk written since the baseline, in write order, and their bytes. */
  readonly writes: readonly number[];
  readonly bytes: readonly number[];
  /** The P lines: chunks of an earlier connection Fluent Bit may store after the baseline, in their write order. */
  readonly pending: readonly number[];
  readonly pendingBytes: readonly number[];
  /** A T line: records of an earlier connection may be stored after the baseline, in a way nothing can tell. */
  readonly tainted: boolean;
  /** Why the writes cannot be resolved, if so. */
  readonly void?: string;
}

export function parseLedger(text: string): LedgerFile {
  let baseline: LedgerFile['baseline'];
  const delivered: Array<readonly [number, number]> = [];
  const writes: number[] = [];
  const bytes: number[] = [];
  const pending: number[] = [];
  const pendingBytes: number[] = [];
  let tainted = false;
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
    if (f[0] === 'B' && n.length === 4 && baseline === undefined && writes.length === 0) baseline = { firstSeq: n[0]!, at: n[1]!, records: n[2]!, bytes: n[3]! };
    else if (f[0] === 'D' && n.length === 2 && n[0]! <= n[1]!) delivered.push([n[0]!, n[1]!]);
    else if (f[0] === 'P' && n.length === 2 && n[0]! > 0 && writes.length === 0) {
      pending.push(n[0]!);
      pendingBytes.push(n[1]!);
    } else if (f[0] === 'T' && f.length === 1) tainted = true;
    else if (f[0] === 'W' && n.length === 3 && n[0]! > 0) {
      if (connection !== undefined && n[2] !== connection) why ??= 'the chunks were written over more than one connection';
      connection = n[2];
      writes.push(n[0]!);
      bytes.push(n[1]!);
    } else if (f[0] === 'X' && f.length === 1) why ??= 'the collector reconnected to Fluent Bit since the baseline';
    else why ??= `unexpected line "${line.slice(0, 40)}"`;
  }
  if (baseline === undefined && writes.length > 0) why ??= 'no baseline';
  return { baseline, delivered, writes, bytes, pending, pendingBytes, tainted, ...(why !== undefined ? { void: why } : {}) };
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

const sum = (xs: readonly number[], n = xs.length): number => {
  let t = 0;
  for (let i = 0; i < n; i++) t += xs[i]!;
  return t;
};

/** What the counters' growth says about the writes since a baseline. */
export type Decision =
  | { readonly kind: 'decided'; readonly stored: number; readonly allPendingStored: boolean }
  | { readonly kind: 'none' | 'ambiguous' };

/**
 * The first `stored` writes were stored when, for some i, the first i pending chunks (an earlier connection's, in
 * their order) and those writes add up to exactly `records` and `bytes`. Every reading consistent with the counts
 * must agree on `stored`, or nothing is decided (ambiguous).
 */
export function decideWrites(
  writes: { readonly entries: readonly number[]; readonly bytes: readonly number[] },
  pending: { readonly entries: readonly number[]; readonly bytes: readonly number[] },
  records: number,
  bytes: number,
): Decision {
  let found: number | undefined;
  let allPending = true;
  for (let i = 0, pr = 0, pb = 0; i <= pending.entries.length; pr += pending.entries[i] ?? 0, pb += pending.bytes[i] ?? 0, i++) {
    const j = storedPrefix(writes.entries, records - pr);
    if (j === undefined || sum(writes.bytes, j) + pb !== bytes) continue;
    if (found !== undefined && found !== j) return { kind: 'ambiguous' };
    found = j;
    allPending &&= i === pending.entries.length;
  }
  return found === undefined ? { kind: 'none' } : { kind: 'decided', stored: found, allPendingStored: allPending };
}

export interface SendLedgerOptions {
  readonly stateDir: string;
  /** The input's counter (FluentBitRecords). */
  readonly records: { readonly input: string; read(): Promise<RecordsReading> };
  /** Fluent Bit's uptime (FluentBitUptime). */
  readonly uptime: { answer(notBefore: number): Promise<UptimeAnswer> };
  /** --ack-settle: the counter must stand this long (at least 300 ms, past a ring flush) to count as stable. */
  readonly settleMs: number;
  readonly logger: Logger;
  /** How long a start waits for the counter to stand still (default 5 s). */
  readonly stableWithinMs?: number;
}

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

/** The counter does not stand still: something else sends to that input (stable code). */
export class LedgerUnstableError extends Error {
  override readonly name = 'LedgerUnstableError';
  readonly code = 'LEDGER_UNSTABLE';
}

/** After a failed baseline (the counter moved without us, or Fluent Bit did not answer), the next one waits this long. */
const RETRY_BASELINE_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SendLedger {
  private fd = -1;
  private nextSeq: number;
  /** Sequence numbers of this baseline's writes start here; writes are appended while not void. */
  private firstSeq: number;
  private connection: number | undefined;
  private void = false;
  private writesSinceBaseline = 0;
  /** Written and neither settled nor released: a new baseline waits until there are none. */
  private readonly open = new Set<number>();
  private rebaselining = false;
  /** A failed baseline was logged (once, until one succeeds); the next try waits until then (Date.now()). */
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
    /** P and T lines every baseline of this run repeats (see the file format). */
    private readonly carry: readonly string[],
  ) {
    this.firstSeq = this.nextSeq = firstSeq;
  }

  /**
   * Reads the ledger the last run left, decides its chunks from Fluent Bit's counter and uptime, and takes a new
   * baseline before anything is written. When Fluent Bit cannot be read (or its counter keeps moving), nothing is
   * decided and the ledger takes its baseline at the first moment nothing is in flight. Throws
   * FluentBitInputMissingError (a configuration mistake: no ledger can work).
   */
  static async open(opts: SendLedgerOptions): Promise<{ ledger: SendLedger; resolution: LedgerResolution }> {
    const file = path.join(opts.stateDir, LEDGER_FILE);
    const old = parseLedger(existsSync(file) ? readFileSync(file, 'latin1') : '');
    // Whatever happens next, this ledger is decided once only: a later start must not read it against a newer counter.
    SendLedger.voidFile(file);
    const total = old.writes.reduce((a, b) => a + b, 0);
    let resolution: LedgerResolution = { stored: 0, storedEntries: 0, notStored: 0, notStoredEntries: 0 };
    let restarted = false;
    const undecided = (why: string): void => {
      resolution = { stored: 0, storedEntries: 0, notStored: old.writes.length, notStoredEntries: total, undecided: why };
    };
    let decided: readonly [number, number] | undefined;
    const stored: Array<readonly [number, number]> = [...old.delivered.slice(-1)];
    let now: RecordsReading | undefined;
    try {
      now = await SendLedger.stableReading(opts, () => false);
    } catch (err) {
      if (err instanceof FluentBitInputMissingError) throw err;
      undecided((err as Error).message);
    }
    /** Lines the new ledger carries: the chunks Fluent Bit may still store late (P), or that it cannot tell (T). */
    let carry: string[] = [];
    if (now === undefined || old.writes.length === 0) {
      // No reading, or nothing written since the baseline (or no ledger): nothing to decide. An earlier
      // connection's rest may still arrive: carried on.
      carry = old.tainted ? ['T'] : old.pending.map((e, i) => `P ${e} ${old.pendingBytes[i]}`);
    } else if (old.tainted) undecided('the start before could not decide its chunks, some of which Fluent Bit may have stored since');
    else if (old.void !== undefined) undecided(old.void);
    else {
      const b = old.baseline!;
      let startedBefore = Infinity;
      try {
        startedBefore = (await opts.uptime.answer(now.at)).startedBefore;
      } catch (err) {
        undecided((err as Error).message);
      }
      if (resolution.undecided !== undefined) {
        // The uptime could not be read.
      } else if (!(startedBefore < b.at)) {
        restarted = true;
        undecided('Fluent Bit restarted since the baseline (its uptime is shorter)');
      }
      else {
        const dr = now.records - b.records, db = now.bytes - b.bytes;
        const d = decideWrites({ entries: old.writes, bytes: old.bytes }, { entries: old.pending, bytes: old.pendingBytes }, dr, db);
        if (d.kind !== 'decided') {
          undecided(`Fluent Bit's input stored ${dr} records (${db} bytes) since the baseline, which ${d.kind === 'none' ? 'is no count of the chunks written first' : 'more than one count of the chunks written first matches'} (${old.writes.length} chunks, ${total} entries): another sender on that input, or records dropped`);
        } else {
          const k = d.stored;
          const storedEntries = sum(old.writes, k);
          resolution = { stored: k, storedEntries, notStored: old.writes.length - k, notStoredEntries: total - storedEntries };
          decided = [b.firstSeq, b.firstSeq + old.writes.length];
          stored.push([b.firstSeq, b.firstSeq + k]);
          // The dead connection's rest may still be stored (then counted); an older rest not all stored yet cannot
          // be told apart from it any more.
          carry = d.allPendingStored ? old.writes.slice(k).map((e, i) => `P ${e} ${old.bytes[k + i]}`) : ['T'];
        }
      }
    }
    // Sequence numbers never repeat, even when a ledger was lost: an id journal may still hold older ones.
    const firstSeq = Math.max((old.baseline?.firstSeq ?? 0) + old.writes.length, Date.now() * 1000);
    // Undecided chunks of the same Fluent Bit may still be stored late: the next start cannot count on its baseline.
    if (resolution.undecided !== undefined && old.writes.length > 0 && !old.tainted && !restarted) carry = ['T'];
    const ledger = new SendLedger(file, opts, stored, decided, firstSeq, carry);
    if (now) ledger.baseline(now);
    else ledger.void = true;
    return { ledger, resolution };
  }

  /** Replaces a ledger by a void one (when no baseline can be taken this run). */
  static voidFile(file: string): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, 'X\n');
    renameSync(tmp, file);
  }

  /** The input's counter once it stood still for the settle time with nothing of ours written meanwhile. */
  private static async stableReading(opts: SendLedgerOptions, wrote: () => boolean): Promise<RecordsReading> {
    const waitMs = Math.max(opts.settleMs, 300);
    const deadline = Date.now() + (opts.stableWithinMs ?? 5_000);
    let prev = await opts.records.read();
    for (;;) {
      await sleep(waitMs);
      const next = await opts.records.read();
      if (next.records === prev.records && next.bytes === prev.bytes && !wrote()) return next;
      if (wrote()) throw new LedgerUnstableError('the collector wrote while the counter was read');
      if (Date.now() >= deadline) {
        throw new LedgerUnstableError(`Fluent Bit's input "${opts.records.input}" kept storing records for ${opts.stableWithinMs ?? 5_000} ms while the collector sent nothing (${prev.records} → ${next.records}): does something else send to it?`);
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

  /** A chunk of `entries` (`bytes` of msgpack) is about to be written on `connection`: journals it; returns its sequence number. */
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
    if (this.void || this.writesSinceBaseline >= 10_000) void this.rebaseline();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private baseline(r: RecordsReading): void {
    const lines = [`B ${this.nextSeq} ${r.at} ${r.records} ${r.bytes}`, ...this.storedRanges.map(([a, b]) => `D ${a} ${b}`), ...this.carry];
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

  private async rebaseline(): Promise<void> {
    if (this.rebaselining || this.closed || Date.now() < this.retryAt) return;
    this.rebaselining = true;
    const seq = this.nextSeq;
    try {
      const r = await SendLedger.stableReading(this.opts, () => this.nextSeq !== seq);
      // Written since (no await between this check and the new file): the next idle moment tries again.
      if (this.nextSeq === seq && !this.closed) {
        this.baseline(r);
        this.warned = false;
        this.opts.logger.debug({ firstSeq: this.firstSeq, records: r.records }, 'forward ledger: new baseline of Fluent Bit\'s input counter');
      }
    } catch (err) {
      if (this.nextSeq === seq) this.retryAt = Date.now() + RETRY_BASELINE_MS;
      if (this.nextSeq === seq && !this.warned && !this.closed) {
        this.warned = true;
        this.opts.logger.warn({ error: (err as Error).message }, 'forward ledger: cannot take a new baseline of Fluent Bit\'s input counter; chunks in flight at a kill will be sent again');
      }
    } finally {
      this.rebaselining = false;
    }
  }
}
