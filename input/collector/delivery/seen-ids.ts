// The ids of one stream that are in flight or delivered, so that re-scanning the overlap never repeats an event: in
// memory (an off-heap table, id-table.ts) and in the id journal (journal.ts). The states an id goes through, and
// what a restart does from each: index.ts.
import type { Logger } from '../../types.js';
import { IdBatch, type SeenEntry } from './id-batch.js';
import { IdTable } from './id-table.js';
import { IdJournal } from './journal.js';
import { ACKED, SENT, readJournal, type Mark } from './journal-codec.js';

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

/** What the last run had in flight when it stopped, as its journal tells: decided once, at start (restart.ts). */
export interface InFlightAtStop {
  /** Journaled as acked, never settled: id → [event time, ack time]. */
  readonly acked: Map<string, readonly [number, number]>;
  /** Journaled as written, never settled: id → [event time, ledger seq…] (one seq per write of its chunk). */
  readonly written: Map<string, number[]>;
}

/** A chunk journaled at its ack (acked@ackedAt) or at its write (sent@seq) and not settled yet. */
interface MarkedRange {
  readonly batch: IdBatch;
  readonly from: number;
  readonly to: number;
  readonly mark: Mark;
  readonly value: number;
}

export class SeenIds {
  /**
   * id → event time (ms) once delivered; NaN while in flight (fetched, written or acked, not settled), so that a
   * re-fetch or an overlapping slice never sends it twice meanwhile. One map: one hash lookup per event.
   */
  private readonly ids = new IdTable(); // off-heap for DI's id formats (id-table.ts)
  /** Ids in flight (NaN in `ids`). */
  private pending = 0;
  /** Delivered lines in the journal (a rewrite is due when they are many more than the ids). */
  private journalLines = 0;
  /** Newest event time (ms) of an id evicted by the bound: re-fetching at or before it may repeat events. */
  evictedUpTo = -Infinity;
  /** Chunks journaled at their ack or write and not settled yet: a rewrite keeps their lines. */
  private readonly marked = new Set<MarkedRange>();
  private atStop: InFlightAtStop | undefined;

  private constructor(
    private readonly journal: IdJournal,
    private readonly opts: SeenIdsOptions,
  ) {}

  /**
   * Opens (or creates) the journal at `file` and loads it. A torn last line (crash mid-append) is dropped with a
   * warning.
   */
  static async open(file: string, opts: SeenIdsOptions): Promise<SeenIds> {
    const { journal, bytes, end } = await IdJournal.open(file, opts.logger, opts.stream);
    const seen = new SeenIds(journal, opts);
    const atStop: InFlightAtStop = { acked: new Map(), written: new Map() };
    // A delivered line settles what an earlier marked line of the same id left open; a marked line of an id already
    // delivered says nothing more.
    const bad = readJournal(bytes, end, {
      delivered: (id, ts) => {
        atStop.acked.delete(id);
        atStop.written.delete(id);
        seen.ids.set(id, ts);
        seen.journalLines++;
      },
      acked: (id, ts, ackedAt) => {
        if (!seen.ids.has(id)) atStop.acked.set(id, [ts, ackedAt]);
      },
      written: (id, ts, seq) => {
        if (seen.ids.has(id)) return;
        const w = atStop.written.get(id);
        if (w) w.push(seq);
        else atStop.written.set(id, [ts, seq]);
      },
    });
    if (bad > 0) {
      opts.logger.warn(
        { ...opts.stream, file, lines: bad },
        'id journal has malformed lines; skipped them (those ids may be forwarded again if re-fetched)',
      );
    }
    seen.atStop = atStop;
    seen.enforceBound();
    return seen;
  }

  /** Ids delivered (not counting those in flight). */
  get size(): number {
    return this.ids.size - this.pending;
  }

  /** In flight or delivered: a fetched event with this id is a duplicate. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** How many ids the last run left in flight at its stop (until decideRestart takes them). */
  get leftInFlight(): {
    readonly acked: number;
    readonly written: number;
    readonly newestAckedAt: number;
    readonly oldestAckedAt: number;
  } {
    let newest = -Infinity,
      oldest = Infinity;
    for (const [, ackedAt] of this.atStop?.acked.values() ?? []) {
      newest = Math.max(newest, ackedAt);
      oldest = Math.min(oldest, ackedAt);
    }
    const acked = this.atStop?.acked.size ?? 0;
    return { acked, written: this.atStop?.written.size ?? 0, newestAckedAt: newest, oldestAckedAt: oldest };
  }

  /** What the last run had in flight at its stop; taken once, by the restart's decision (restart.ts). */
  takeInFlightAtStop(): InFlightAtStop {
    const a = this.atStop ?? { acked: new Map(), written: new Map() };
    this.atStop = undefined;
    return a;
  }

  /**
   * Fetched → in flight. PageEvents ids are strings of their own (decoded from the page's bytes), so they are stored
   * as they are: no copy per id (hundreds of thousands are remembered).
   */
  reserve(id: string): void {
    this.ids.set(id, NaN);
    this.pending++;
  }

  /**
   * Entries [from, to) of this batch are about to be written to Fluent Bit as the ledger's write `seq`. With
   * journalWrites they are journaled as sent@seq first; otherwise nothing happens.
   */
  written(batch: IdBatch, from: number, to: number, seq: number): void {
    this.mark(batch, from, to, SENT, seq, this.opts.journalWrites === true);
  }

  /**
   * Fluent Bit acked entries [from, to) of this batch; their ack has not settled. With journalAcks they are
   * journaled as acked@ackedAt, so that a restart can tell whether they were stored; otherwise nothing happens.
   */
  acked(batch: IdBatch, from: number, to: number, ackedAt: number): void {
    this.mark(batch, from, to, ACKED, ackedAt, this.opts.journalAcks === true);
  }

  /** The send of these ids failed: they may be sent again (in flight → forgotten). */
  release(entries: IdBatch | readonly SeenEntry[]): void {
    const batch = entries instanceof IdBatch ? entries : IdBatch.of(entries);
    this.forgetMarks(batch);
    for (let i = 0; i < batch.length; i++) {
      const id = batch.id(i);
      if (Number.isNaN(this.ids.get(id)) && this.ids.delete(id)) this.pending--;
    }
  }

  /**
   * Entries [from, to) of these were delivered (acked by Fluent Bit, ack settled; or found stored at a restart):
   * remember and journal them (a plain write: durable across kill -9 of the process).
   */
  commit(entries: IdBatch | readonly SeenEntry[], from = 0, to = entries.length): void {
    if (to <= from) return;
    const batch = entries instanceof IdBatch ? entries : IdBatch.of(entries);
    if (this.marked.size > 0) this.forgetMarks(batch, from);
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
    this.journal.append(batch, from, to, undefined, ACKED);
    this.journalLines += to - from;
    this.enforceBound();
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
      let lo = 0,
        hi = n - 1;
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

  /** Makes every journaled id durable (before a checkpoint that relies on them is written). */
  sync(): Promise<void> {
    return this.journal.sync();
  }

  /** Forgets delivered ids the dedup no longer needs and rewrites the journal atomically. */
  async compact(keep: (ts: number) => boolean): Promise<void> {
    this.ids.deleteWhere((ts) => !Number.isNaN(ts) && !keep(ts));
    await this.rewrite();
  }

  /** Rewrites the journal when it holds many more lines than ids (appends between compactions). */
  async maybeRewrite(): Promise<void> {
    if (this.journalLines > 2 * Math.max(this.size, 1000)) await this.rewrite();
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private mark(batch: IdBatch, from: number, to: number, mark: Mark, value: number, journaled: boolean): void {
    if (!journaled || to <= from) return;
    this.marked.add({ batch, from, to, mark, value });
    this.journal.append(batch, from, to, value, mark);
  }

  /** Forgets the marked ranges of `batch` (all of them, or the ones starting at `from`). */
  private forgetMarks(batch: IdBatch, from?: number): void {
    for (const r of this.marked)
      if (r.batch === batch && (from === undefined || r.from === from)) this.marked.delete(r);
  }

  private async rewrite(): Promise<void> {
    let lines = 0;
    await this.journal.rewrite((emit) => {
      this.ids.forEach((ts, id) => {
        if (Number.isNaN(ts)) return;
        lines++;
        emit(id, ts);
      });
      // Chunks written or acked and still settling keep their sent@/acked@ lines: a crash right after this rewrite
      // can still decide them. (Their ids are in flight in the table, so the pass above skipped them.)
      for (const r of this.marked) {
        for (let i = r.from; i < r.to; i++) {
          const id = r.batch.id(i);
          if (!Number.isNaN(this.ids.get(id) ?? 0)) continue;
          emit(id, r.batch.ts[i]!, r.value, r.mark);
        }
      }
    });
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
    const evicted = this.ids.deleteWhere(
      (ts) => ts <= cut,
      () => this.size > target,
    );
    this.evictedUpTo = Math.max(this.evictedUpTo, cut);
    this.opts.onEvict?.(evicted);
    this.opts.logger.warn(
      { ...this.opts.stream, evicted, maxSeenIds: max, evictedUpTo: new Date(cut).toISOString() },
      'id set reached maxSeenIds: evicted the oldest ids; events older than the kept ones that are re-fetched ' +
        '(late arrivals in the overlap) may be forwarded again. Raise maxSeenIds or shorten the overlap',
    );
  }
}
