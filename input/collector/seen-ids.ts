// The ids already forwarded for one stream, so that re-scanning the overlap never repeats an event.
// Kept in memory and in an append-only journal (`<service>.ids`, lines `id<TAB>epoch ms`): an append is a
// plain write after each acked batch (it survives kill -9; fsync comes with each checkpoint write), and the
// journal is rewritten atomically (compacted) when the checkpoint moves.
import { promises as fsp, openSync, writeSync, closeSync, fsync, existsSync } from 'node:fs';
import type { Logger } from '../types.js';
import { writeFileAtomic } from './state.js';

export interface SeenEntry {
  readonly id: string;
  /** Event time in epoch ms (truncated). */
  readonly ts: number;
}

export interface SeenIdsOptions {
  readonly maxIds: number;
  readonly logger: Logger;
  /** Labels for log lines. */
  readonly stream: { readonly org: string; readonly service: string };
  /** Called with the number of ids evicted because the set reached maxIds. */
  readonly onEvict?: (n: number) => void;
}

const NEEDS_QUOTING = /[\t\r\n"]/;

function encodeLine(id: string, ts: number): string {
  return `${NEEDS_QUOTING.test(id) ? JSON.stringify(id) : id}\t${ts}\n`;
}

export class SeenIds {
  /**
   * id → event time (ms) once acked and journaled; NaN while sent and not yet acked (so a re-fetch or an
   * overlapping slice never sends it twice meanwhile). One map: one hash lookup per event on the hot path.
   */
  private readonly ids = new Map<string, number>();
  private pending = 0;
  private fd: number;
  private journalLines = 0;
  private dirty = false;
  /** While the journal is rewritten, appends also land here and are re-appended to the new file. */
  private appendedDuringRewrite: string[] | undefined;
  private rewriting: Promise<void> | undefined;
  /** fsyncs under way on the current fd (it is not closed under them). */
  private syncing = 0;
  /** Newest event time (ms) of an id evicted by the bound: re-fetching at or before it may repeat events. */
  evictedUpTo = -Infinity;

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
      const tab = bytes.lastIndexOf(0x09, nl);
      let id = tab > lineStart ? bytes.toString('utf8', lineStart, tab) : '';
      const ts = tab >= lineStart ? Number(bytes.toString('latin1', tab + 1, nl)) : NaN;
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
   * Marks an id as being sent. RawEvent ids are strings of their own (the DI client decodes them from the page's
   * bytes), so they are stored as they are: no copy per id (hundreds of thousands are remembered).
   */
  reserve(id: string): void {
    this.ids.set(id, NaN);
    this.pending++;
  }

  /** The send of these ids failed: they may be sent again. */
  release(entries: readonly SeenEntry[]): void {
    for (const e of entries) {
      if (Number.isNaN(this.ids.get(e.id)) && this.ids.delete(e.id)) this.pending--;
    }
  }

  /** These entries were acked by Fluent Bit: remember and journal them (plain write; durable across kill -9). */
  commit(entries: readonly SeenEntry[]): void {
    if (entries.length === 0) return;
    let out = '';
    // One scan of all ids decides whether any needs quoting (they are hex or UUIDs: never in practice).
    const plain = !NEEDS_QUOTING.test(entries.map((e) => e.id).join(''));
    for (const e of entries) {
      const prev = this.ids.get(e.id);
      if (prev === undefined) this.ids.set(e.id, e.ts);
      else {
        if (Number.isNaN(prev)) this.pending--;
        this.ids.set(e.id, e.ts);
      }
      out += plain ? `${e.id}\t${e.ts}\n` : encodeLine(e.id, e.ts);
    }
    writeSync(this.fd, out);
    this.appendedDuringRewrite?.push(out);
    this.journalLines += entries.length;
    this.dirty = true;
    this.enforceBound();
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
    for (const [id, ts] of this.ids) if (!Number.isNaN(ts) && !keep(ts)) this.ids.delete(id);
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
    // Written into one buffer line by line: no array of hundreds of thousands of strings plus their join.
    let out = Buffer.allocUnsafeSlow(Math.max(4096, this.ids.size * 48));
    let at = 0;
    let lines = 0;
    for (const [id, ts] of this.ids) {
      if (Number.isNaN(ts)) continue;
      const line = encodeLine(id, ts);
      const need = Buffer.byteLength(line);
      if (at + need > out.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(out.length * 2, at + need));
        out.copy(grown, 0, 0, at);
        out = grown;
      }
      at += out.write(line, at);
      lines++;
    }
    this.appendedDuringRewrite = [];
    try {
      await writeFileAtomic(this.file, out.subarray(0, at));
    } finally {
      const extra = this.appendedDuringRewrite;
      this.appendedDuringRewrite = undefined;
      while (this.syncing > 0) await new Promise((r) => setTimeout(r, 1));
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
    const times = Float64Array.from([...this.ids.values()].filter((t) => !Number.isNaN(t))).sort();
    const cut = times[times.length - target - 1]!;
    let evicted = 0;
    for (const [id, ts] of this.ids) {
      if (ts <= cut && this.size > target) {
        this.ids.delete(id);
        evicted++;
      }
    }
    this.evictedUpTo = Math.max(this.evictedUpTo, cut);
    this.opts.onEvict?.(evicted);
    this.opts.logger.warn(
      { ...this.opts.stream, evicted, maxSeenIds: max, evictedUpTo: new Date(cut).toISOString() },
      'id set reached maxSeenIds: evicted the oldest ids; events older than the kept ones that are re-fetched (late arrivals in the overlap) may be forwarded again. Raise maxSeenIds or shorten the overlap',
    );
  }
}
