// The ids already forwarded for one stream, so that re-scanning the overlap never repeats an event.
// Kept in memory and in an append-only journal (`<service>.ids`, lines `id<TAB>epoch ms`): an append is a
// plain write after each settled chunk (it survives kill -9; fsync comes with each checkpoint write), and the
// journal is rewritten atomically (compacted) when the checkpoint moves. With `journalAcks`, each acked chunk is
// also journaled at its ack, as `id<TAB>epoch ms<TAB>acked@<ack epoch ms>`: not delivered yet, but a restart can
// confirm it (Fluent Bit ran on since before the ack, through the settle time) instead of sending it again. With
// `journalWrites`, each chunk is journaled before it is written to the socket too, as `id<TAB>epoch ms<TAB>sent@<seq>`
// (seq: its number in the forward ledger, send-ledger.ts): a restart asks the ledger whether that write was stored.
import { promises as fsp, openSync, writeSync, closeSync, fsync, existsSync } from 'node:fs';
import type { Logger } from '../../types.js';
import { IdTable } from './id-table.js';
import { writeFileAtomicWith } from '../state/state.js';

export interface SeenEntry {
  readonly id: string;
  /** Event time in epoch ms (truncated). */
  readonly ts: number;
}

/**
 * The ids of one send group and their event times, compact: the ids joined into one string with their end offsets,
 * the times in a Float64Array. It lives until the group's ack settles — long enough that an object (and a boxed
 * time) per id would be promoted to the old generation as garbage; this is three objects per group.
 */
export class IdBatch {
  constructor(
    /** Every id of the batch, concatenated. */
    private readonly joined: string,
    /** End of id i in `joined` (id i starts where id i-1 ends). */
    private readonly ends: Uint32Array,
    /** Event time of id i (epoch ms, truncated). */
    readonly ts: Float64Array,
  ) {}

  get length(): number {
    return this.ends.length;
  }

  /** Id i: a short-lived slice (the id table copies what it keeps of DI's id formats). */
  id(i: number): string {
    return this.joined.slice(i === 0 ? 0 : this.ends[i - 1], this.ends[i]);
  }

  static of(entries: readonly SeenEntry[]): IdBatch {
    const b = new IdBatchBuilder(entries.length);
    for (const e of entries) b.add(e.id, e.ts);
    return b.finish();
  }
}

/** Collects the ids of a group as it fills (at most `capacity`); finish() joins them. */
export class IdBatchBuilder {
  private readonly parts: string[] = [];
  private readonly ends: Uint32Array;
  private readonly ts: Float64Array;
  private chars = 0;

  constructor(capacity: number) {
    this.ends = new Uint32Array(capacity);
    this.ts = new Float64Array(capacity);
  }

  get length(): number {
    return this.parts.length;
  }

  add(id: string, ts: number): void {
    const n = this.parts.length;
    if (n === this.ends.length) throw new RangeError(`IdBatchBuilder holds ${n} ids at most`);
    this.chars += id.length;
    this.ends[n] = this.chars;
    this.ts[n] = ts;
    this.parts.push(id);
  }

  finish(): IdBatch {
    const n = this.parts.length;
    return new IdBatch(this.parts.join(''), this.ends.subarray(0, n), this.ts.subarray(0, n));
  }
}

export interface SeenIdsOptions {
  readonly maxIds: number;
  readonly logger: Logger;
  /** Labels for log lines. */
  readonly stream: { readonly org: string; readonly service: string };
  /** Called with the number of ids evicted because the set reached maxIds. */
  readonly onEvict?: (n: number) => void;
  /** Journal each chunk at its ack too (marked acked@), so a restart can confirm what had not settled. */
  readonly journalAcks?: boolean;
  /** Journal each chunk before it is written too (marked sent@seq), so a restart can decide it from the ledger. */
  readonly journalWrites?: boolean;
}

/** Ids journaled as acked whose ack had not settled when the collector stopped: delivered or not, to be decided. */
export interface UnconfirmedAcks {
  readonly count: number;
  /** Newest ack time (epoch ms) among them; -Infinity when there are none. */
  readonly newestAckedAt: number;
  /** Oldest ack time (epoch ms) among them; Infinity when there are none. */
  readonly oldestAckedAt: number;
}

const ACKED = 'acked@';
const SENT = 'sent@';
/** The marks a journal line may end with: acked@<ack epoch ms>, sent@<ledger seq>. */
type Mark = typeof ACKED | typeof SENT;
const MARK_BYTES: Record<Mark, Buffer> = { [ACKED]: Buffer.from(`\t${ACKED}`, 'latin1'), [SENT]: Buffer.from(`\t${SENT}`, 'latin1') };

const NEEDS_QUOTING = /[\t\r\n"]/;

function encodeLine(id: string, ts: number, markValue?: number, mark: Mark = ACKED): string {
  return `${NEEDS_QUOTING.test(id) ? JSON.stringify(id) : id}\t${ts}${markValue === undefined ? '' : `\t${mark}${markValue}`}\n`;
}

/** Writes the decimal digits of a safe non-negative integer at `at`; returns the end. */
function writeDigits(buf: Buffer, at: number, v: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = digits - 1, x = v; i >= 0; i--, x = Math.floor(x / 10)) buf[at + i] = 48 + (x % 10);
  return at + digits;
}

/**
 * Writes the journal line of (id, ts) — marked `mark`markValue (acked@ms by default) when given — at `at` (room
 * checked by the caller: 3 bytes per id unit + 64); returns the end. Same bytes as encodeLine, without building a
 * string for a plain id and safe-integer times.
 */
export function writeLine(buf: Buffer, at: number, id: string, ts: number, markValue?: number, mark: Mark = ACKED): number {
  const plainMark = markValue === undefined || (Number.isSafeInteger(markValue) && markValue >= 0);
  if (NEEDS_QUOTING.test(id) || !Number.isSafeInteger(ts) || ts < 0 || !plainMark) return at + buf.write(encodeLine(id, ts, markValue, mark), at, 'utf8');
  at += buf.write(id, at, 'utf8');
  buf[at++] = 0x09;
  at = writeDigits(buf, at, ts);
  if (markValue !== undefined) {
    at += MARK_BYTES[mark].copy(buf, at);
    at = writeDigits(buf, at, markValue);
  }
  buf[at++] = 0x0a;
  return at;
}

/** A chunk journaled at its ack (acked@ackedAt) or at its write (sent@seq) that has not settled yet (rewrites keep its lines). */
interface MarkedRange {
  readonly batch: IdBatch;
  readonly from: number;
  readonly to: number;
  readonly mark: Mark;
  readonly value: number;
}

export class SeenIds {
  /**
   * id → event time (ms) once acked and journaled; NaN while sent and not yet acked (so a re-fetch or an
   * overlapping slice never sends it twice meanwhile). One map: one hash lookup per event on the hot path.
   */
  private readonly ids = new IdTable(); // off-heap for DI's id formats (id-table.ts)
  private pending = 0;
  private fd: number;
  private journalLines = 0;
  private dirty = false;
  /** While the journal is rewritten, appends also land here and are re-appended to the new file. */
  private appendedDuringRewrite: Buffer[] | undefined;
  /** Reused for the lines of one commit (grows to the largest batch). */
  private lineBuf = Buffer.allocUnsafeSlow(64 * 1024);
  private rewriting: Promise<void> | undefined;
  /** fsyncs under way on the current fd (it is not closed under them). */
  private syncing = 0;
  /** Newest event time (ms) of an id evicted by the bound: re-fetching at or before it may repeat events. */
  evictedUpTo = -Infinity;
  /** Chunks journaled at their ack or write and not settled yet (journalAcks, journalWrites). */
  private readonly ackedRanges = new Set<MarkedRange>();
  /** Loaded from the journal: acked, never settled (id → [event time, ack time]); decided by confirmAcks(). */
  private unconfirmed = new Map<string, readonly [number, number]>();
  /** Loaded from the journal: written, never settled (id → [event time, ledger seq…]); decided by decideWrites(). */
  private unsent = new Map<string, number[]>();

  private constructor(private readonly file: string, private readonly opts: SeenIdsOptions) {
    this.fd = openSync(file, 'a');
  }

  /** Opens (or creates) the journal at `file` and loads it. A torn last line (crash mid-append) is dropped with a warning. */
  static async open(file: string, opts: SeenIdsOptions): Promise<SeenIds> {
    // Parsed from bytes: each id is a string of its own (slices of one big text would pin all of it in memory).
    const bytes = existsSync(file) ? await fsp.readFile(file) : Buffer.alloc(0);
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) {
      opts.logger.warn(
        { ...opts.stream, file, torn: bytes.toString('utf8', end, end + 80) },
        'id journal ends with a torn line (the collector stopped mid-append); ignoring it: that batch was not journaled, so at worst one batch is forwarded again',
      );
      await fsp.truncate(file, end);
    }
    const seen = new SeenIds(file, opts);
    let bad = 0;
    for (let at = 0; at < end; ) {
      const nl = bytes.indexOf(0x0a, at);
      const lineStart = at;
      at = nl + 1;
      if (nl === lineStart) continue;
      let tab = bytes.lastIndexOf(0x09, nl);
      // `id<TAB>ts<TAB>acked@ms`: acked, not known to have settled; `id<TAB>ts<TAB>sent@seq`: written, likewise.
      let ackedAt: number | undefined;
      let sentSeq: number | undefined;
      let tsEnd = nl;
      const markOf = (m: Mark): number | undefined =>
        tab > lineStart && bytes.toString('latin1', tab + 1, Math.min(nl, tab + 1 + m.length)) === m ? Number(bytes.toString('latin1', tab + 1 + m.length, nl)) : undefined;
      ackedAt = markOf(ACKED);
      if (ackedAt === undefined) sentSeq = markOf(SENT);
      const markValue = ackedAt ?? sentSeq;
      if (markValue !== undefined) {
        tsEnd = tab;
        tab = bytes.lastIndexOf(0x09, tab - 1);
        if (!Number.isFinite(markValue) || tab < lineStart) tab = -1;
      }
      let id = tab > lineStart ? bytes.toString('utf8', lineStart, tab) : '';
      const ts = tab >= lineStart ? Number(bytes.toString('latin1', tab + 1, tsEnd)) : NaN;
      if (id.startsWith('"')) {
        try {
          id = JSON.parse(id) as string;
        } catch {
          id = '';
        }
      }
      if (id === '' || !Number.isFinite(ts)) {
        bad++;
        continue;
      }
      if (ackedAt !== undefined) {
        if (!seen.ids.has(id)) seen.unconfirmed.set(id, [ts, ackedAt]);
        continue;
      }
      if (sentSeq !== undefined) {
        if (!seen.ids.has(id)) {
          const u = seen.unsent.get(id);
          if (u) u.push(sentSeq);
          else seen.unsent.set(id, [ts, sentSeq]);
        }
        continue;
      }
      seen.unconfirmed.delete(id);
      seen.unsent.delete(id);
      seen.ids.set(id, ts);
      seen.journalLines++;
    }
    if (bad > 0) {
      opts.logger.warn({ ...opts.stream, file, lines: bad }, 'id journal has malformed lines; skipped them (those ids may be forwarded again if re-fetched)');
    }
    seen.enforceBound();
    return seen;
  }

  /** Ids remembered as acked (not counting those in flight). */
  get size(): number {
    return this.ids.size - this.pending;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /**
   * Marks an id as being sent. PageEvents ids are strings of their own (decoded from the page's bytes), so they
   * are stored as they are: no copy per id (hundreds of thousands are remembered).
   */
  reserve(id: string): void {
    this.ids.set(id, NaN);
    this.pending++;
  }

  /**
   * Delivered ids per time bucket: counts[i] = ids with event time in [origin + i·width, origin + (i+1)·width) ∩
   * [from, to). One pass over the table (no per-bucket bookkeeping to keep right through commits, releases,
   * compactions and evictions): ~1 ms per 100,000 ids, once per poll.
   */
  countByBucket(origin: number, width: number, buckets: number, from: number, to: number): Uint32Array {
    const counts = new Uint32Array(buckets);
    this.ids.forEachValue((ts) => {
      if (!(ts >= from && ts < to)) return; // NaN (in flight) fails both
      const i = Math.floor((ts - origin) / width);
      if (i >= 0 && i < buckets) counts[i]!++;
    });
    return counts;
  }

  /**
   * Delivered ids with event time in one of the ranges [from, to) (sorted, disjoint), at most `max + 1` of them
   * (the caller sends them in a query: more than `max` means too many to name). One pass over the table.
   */
  idsIn(ranges: readonly { readonly from: number; readonly to: number }[], max: number): string[] {
    const n = ranges.length;
    let taken = 0;
    return this.ids.idsWhere((ts) => {
      if (taken > max || !(ts >= ranges[0]!.from && ts < ranges[n - 1]!.to)) return false; // NaN (in flight) fails
      let lo = 0, hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (ranges[mid]!.from <= ts) lo = mid;
        else hi = mid - 1;
      }
      if (ts >= ranges[lo]!.to) return false;
      taken++;
      return true;
    });
  }

  /** Acked chunks that had not settled when the collector last stopped (see confirmAcks). */
  get unconfirmedAcks(): UnconfirmedAcks {
    let newest = -Infinity, oldest = Infinity;
    for (const [, ackedAt] of this.unconfirmed.values()) {
      if (ackedAt > newest) newest = ackedAt;
      if (ackedAt < oldest) oldest = ackedAt;
    }
    return { count: this.unconfirmed.size, newestAckedAt: newest, oldestAckedAt: oldest };
  }

  /**
   * Decides the unconfirmed acks: those whose ack time `stored` accepts are remembered as delivered (and journaled
   * so), the others are forgotten, so that the stream fetches and sends them again. Returns how many of each.
   */
  confirmAcks(stored: (ackedAt: number) => boolean): { confirmed: number; dropped: number } {
    const confirmed: SeenEntry[] = [];
    let dropped = 0;
    for (const [id, [ts, ackedAt]] of this.unconfirmed) {
      if (stored(ackedAt)) confirmed.push({ id, ts });
      else dropped++;
    }
    this.unconfirmed = new Map();
    this.commit(confirmed);
    return { confirmed: confirmed.length, dropped };
  }

  /** Ids journaled as written whose chunk had not settled when the collector stopped (see decideWrites). */
  get unsettledWrites(): number {
    return this.unsent.size;
  }

  /**
   * Decides the chunks written and not settled at the last stop from the forward ledger: an id one of whose writes
   * `stored` says was stored is remembered as delivered (and journaled so); one whose writes were all found not
   * stored is forgotten, acked or not (sent again); the rest is left to confirmAcks (acked) or forgotten.
   */
  decideWrites(stored: (seq: number) => boolean | undefined): { stored: number; notStored: number; undecided: number } {
    const delivered: SeenEntry[] = [];
    let notStored = 0, undecided = 0;
    for (const [id, [ts, ...seqs]] of this.unsent) {
      const verdicts = seqs.map(stored);
      if (verdicts.includes(true)) {
        delivered.push({ id, ts: ts! });
        this.unconfirmed.delete(id);
      } else if (verdicts.every((v) => v === false)) {
        notStored++;
        this.unconfirmed.delete(id);
      } else undecided++;
    }
    this.unsent = new Map();
    this.commit(delivered);
    return { stored: delivered.length, notStored, undecided };
  }

  /**
   * Fluent Bit acked entries [from, to) of this batch; their ack has not settled. With journalAcks they are
   * journaled as acked@ackedAt, so that a restart can tell whether they were stored; otherwise nothing happens.
   */
  acked(batch: IdBatch, from: number, to: number, ackedAt: number): void {
    if (!this.opts.journalAcks || to <= from) return;
    this.ackedRanges.add({ batch, from, to, mark: ACKED, value: ackedAt });
    this.appendLines(batch, from, to, ackedAt, ACKED);
  }

  /**
   * Entries [from, to) of this batch are about to be written to Fluent Bit as the ledger's write `seq`. With
   * journalWrites they are journaled as sent@seq first; otherwise nothing happens.
   */
  written(batch: IdBatch, from: number, to: number, seq: number): void {
    if (!this.opts.journalWrites || to <= from) return;
    this.ackedRanges.add({ batch, from, to, mark: SENT, value: seq });
    this.appendLines(batch, from, to, seq, SENT);
  }

  /** The send of these ids failed: they may be sent again. */
  release(entries: IdBatch | readonly SeenEntry[]): void {
    const batch = entries instanceof IdBatch ? entries : IdBatch.of(entries);
    this.forgetRanges(batch);
    for (let i = 0; i < batch.length; i++) {
      const id = batch.id(i);
      if (Number.isNaN(this.ids.get(id)) && this.ids.delete(id)) this.pending--;
    }
  }

  /**
   * Entries [from, to) of these were delivered (acked by Fluent Bit, ack settled): remember and journal them (plain
   * write; durable across kill -9).
   */
  commit(entries: IdBatch | readonly SeenEntry[], from = 0, to = entries.length): void {
    if (to <= from) return;
    const batch = entries instanceof IdBatch ? entries : IdBatch.of(entries);
    if (this.ackedRanges.size > 0) this.forgetRanges(batch, from);
    for (let i = from; i < to; i++) {
      const id = batch.id(i);
      const ts = batch.ts[i]!;
      // `id` is a slice of the batch's joined string. A reserved id keeps its own key (Map.set does not replace a
      // key); an id not reserved before is stored as a copy of its own, so that no kept key pins the whole batch.
      const prev = this.ids.get(id);
      if (prev === undefined) this.ids.set(JSON.parse(JSON.stringify(id)) as string, ts);
      else {
        if (Number.isNaN(prev)) this.pending--;
        this.ids.set(id, ts);
      }
    }
    this.appendLines(batch, from, to, undefined, ACKED);
    this.journalLines += to - from;
    this.enforceBound();
  }

  /** Appends the lines of entries [from, to) (marked `mark`markValue when given) with one plain write. */
  private appendLines(batch: IdBatch, from: number, to: number, markValue: number | undefined, mark: Mark): void {
    // The lines are written into one reused buffer: building them as strings cost ~200 bytes of garbage per event.
    let buf = this.lineBuf;
    let at = 0;
    for (let i = from; i < to; i++) {
      const id = batch.id(i);
      // Ids are hex or UUIDs (ASCII, 3 bytes per UTF-16 unit bounds any string); the times are integer ms.
      const need = at + 3 * id.length + 64;
      if (need > buf.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(2 * buf.length, need));
        buf.copy(grown, 0, 0, at);
        buf = this.lineBuf = grown;
      }
      at = writeLine(buf, at, id, batch.ts[i]!, markValue, mark);
    }
    const out = buf.subarray(0, at);
    writeSync(this.fd, out);
    if (this.appendedDuringRewrite) this.appendedDuringRewrite.push(Buffer.from(out));
    this.dirty = true;
  }

  /** Forgets the marked ranges of `batch` (all of them, or the ones starting at `from`). */
  private forgetRanges(batch: IdBatch, from?: number): void {
    for (const r of this.ackedRanges) if (r.batch === batch && (from === undefined || r.from === from)) this.ackedRanges.delete(r);
  }

  /**
   * Makes every committed id durable (before a checkpoint that relies on them is written). Asynchronous: a slow
   * disk must not block the event loop, where acks wait to be journaled.
   */
  async sync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const fd = this.fd;
    this.syncing++;
    try {
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.dirty = true;
      throw err;
    } finally {
      this.syncing--;
    }
  }

  /** Forgets ids the dedup no longer needs and rewrites the journal atomically. */
  async compact(keep: (ts: number) => boolean): Promise<void> {
    this.ids.deleteWhere((ts) => !Number.isNaN(ts) && !keep(ts));
    await this.rewrite();
  }

  /** Rewrites the journal when it holds many more lines than ids (appends between compactions). */
  async maybeRewrite(): Promise<void> {
    if (this.journalLines > 2 * Math.max(this.size, 1000)) await this.rewrite();
  }

  async close(): Promise<void> {
    while (this.rewriting) await this.rewriting;
    await this.sync();
    while (this.syncing > 0) await new Promise((r) => setTimeout(r, 1));
    closeSync(this.fd);
    this.fd = -1;
  }

  private async rewrite(): Promise<void> {
    while (this.rewriting) await this.rewriting;
    this.rewriting = this.rewriteNow().finally(() => {
      this.rewriting = undefined;
    });
    return this.rewriting;
  }

  private async rewriteNow(): Promise<void> {
    let lines = 0;
    this.appendedDuringRewrite = [];
    try {
      // Lines go out through one reused 256 KB buffer (a whole-journal buffer was ~14 MB for 300,000 ids), in
      // one synchronous pass: the id table cannot change under the iteration. Commits made while the file is
      // synced and renamed are caught by appendedDuringRewrite.
      const buf = this.lineBuf.length >= 256 * 1024 ? this.lineBuf : (this.lineBuf = Buffer.allocUnsafeSlow(256 * 1024));
      await writeFileAtomicWith(this.file, (write) => {
        let at = 0;
        this.ids.forEach((ts, id) => {
          if (Number.isNaN(ts)) return;
          lines++;
          const need = 3 * id.length + 64;
          if (at + need > buf.length) {
            write(buf.subarray(0, at));
            at = 0;
          }
          if (need > buf.length) write(Buffer.from(encodeLine(id, ts), 'utf8')); // an absurdly long id
          else at = writeLine(buf, at, id, ts);
        });
        // Chunks written or acked and still settling keep their sent@/acked@ lines: a crash right after this rewrite
        // can still decide them. (Their ids are in flight in the table, so the pass above skipped them.)
        for (const r of this.ackedRanges) {
          for (let i = r.from; i < r.to; i++) {
            const id = r.batch.id(i);
            if (!Number.isNaN(this.ids.get(id) ?? 0)) continue;
            const need = 3 * id.length + 64;
            if (at + need > buf.length) {
              write(buf.subarray(0, at));
              at = 0;
            }
            if (need > buf.length) write(Buffer.from(encodeLine(id, r.batch.ts[i]!, r.value, r.mark), 'utf8'));
            else at = writeLine(buf, at, id, r.batch.ts[i]!, r.value, r.mark);
          }
        }
        if (at > 0) write(buf.subarray(0, at));
      });
    } finally {
      // Commits keep landing in appendedDuringRewrite until the new file is open: one made while an fsync of the
      // old fd finishes would otherwise go only to the old (replaced) file and be missing after a restart.
      while (this.syncing > 0) await new Promise((r) => setTimeout(r, 1));
      const extra = this.appendedDuringRewrite;
      this.appendedDuringRewrite = undefined;
      closeSync(this.fd);
      this.fd = openSync(this.file, 'a');
      // Commits made while the new file was written went to the old one: append them to the new one too.
      for (const out of extra) writeSync(this.fd, out);
      this.dirty = extra.length > 0;
    }
    this.journalLines = lines;
  }

  /** Keeps at most maxIds (evicting the oldest by event time, to 90 % of the bound so it is not done per batch). */
  private enforceBound(): void {
    const max = this.opts.maxIds;
    if (this.size <= max) return;
    const target = Math.floor(max * 0.9);
    const times = new Float64Array(this.ids.size);
    let n = 0;
    this.ids.forEachValue((t) => {
      if (!Number.isNaN(t)) times[n++] = t;
    });
    const sorted = times.subarray(0, n).sort();
    const cut = sorted[n - target - 1]!;
    const evicted = this.ids.deleteWhere((ts) => ts <= cut, () => this.size > target);
    this.evictedUpTo = Math.max(this.evictedUpTo, cut);
    this.opts.onEvict?.(evicted);
    this.opts.logger.warn(
      { ...this.opts.stream, evicted, maxSeenIds: max, evictedUpTo: new Date(cut).toISOString() },
      'id set reached maxSeenIds: evicted the oldest ids; events older than the kept ones that are re-fetched (late arrivals in the overlap) may be forwarded again. Raise maxSeenIds or shorten the overlap',
    );
  }
}
