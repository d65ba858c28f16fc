// One stream's id journal file (`<service>.ids`; its lines: journal-codec.ts): appended with a plain write per
// chunk (that survives a kill -9 of the process; fsync comes with each checkpoint write), and rewritten atomically
// when the checkpoint moves (compaction). A rewrite may run while chunks keep settling: their appends go to the old
// file and, kept aside meanwhile, are appended to the new one once it replaced the old.
import { promises as fsp, openSync, writeSync, closeSync, fsync, existsSync } from 'node:fs';
import type { Logger } from '../../types.js';
import { writeFileAtomicWith } from '../state/files.js';
import type { IdBatch } from './id-batch.js';
import { encodeLine, lineBytesMax, writeLine, type Mark } from './journal-codec.js';

/** Emits one line of a rewrite. */
export type LineSink = (id: string, ts: number, markValue?: number, mark?: Mark) => void;

const fsyncFd = (fd: number): Promise<void> =>
  new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * The lines of an append or of a rewrite are built here, shared by every journal: both fill and write it in one
 * synchronous pass, so no two ever use it at once. A buffer per journal (64 KB, 256 KB after its first rewrite) held
 * 256 MB with 1,000 orgs. Grows to the largest append.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

export class IdJournal {
  private fd: number;
  private dirty = false;
  /** While the file is rewritten, appends also land here and are re-appended to the new file. */
  private appendedDuringRewrite: Buffer[] | undefined;
  private rewriting: Promise<void> | undefined;
  /** fsyncs under way on the current fd (it is not closed under them). */
  private readonly syncs = new Set<Promise<void>>();

  private constructor(private readonly file: string) {
    this.fd = openSync(file, 'a');
  }

  /**
   * Opens (or creates) the journal at `file`; returns it with the bytes it held, up to the end of its last whole
   * line. A torn last line (a kill mid-append) is cut off, with a warning.
   */
  static async open(
    file: string,
    logger: Logger,
    labels: object,
  ): Promise<{ journal: IdJournal; bytes: Buffer; end: number }> {
    const bytes = existsSync(file) ? await fsp.readFile(file) : Buffer.alloc(0);
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) {
      logger.warn(
        { ...labels, file, torn: bytes.toString('utf8', end, end + 80) },
        'id journal ends with a torn line (the collector stopped mid-append); ignoring it: that batch was not ' +
          'journaled, so at worst one batch is forwarded again',
      );
      await fsp.truncate(file, end);
    }
    return { journal: new IdJournal(file), bytes, end };
  }

  /** Appends the lines of entries [from, to) of `batch` (marked `mark`markValue when given) with one plain write. */
  append(batch: IdBatch, from: number, to: number, markValue: number | undefined, mark: Mark): void {
    let buf = scratch;
    let at = 0;
    for (let i = from; i < to; i++) {
      const id = batch.id(i);
      const need = at + lineBytesMax(id);
      if (need > buf.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(2 * buf.length, need));
        buf.copy(grown, 0, 0, at);
        buf = scratch = grown;
      }
      at = writeLine(buf, at, id, batch.ts[i]!, markValue, mark);
    }
    const out = buf.subarray(0, at);
    writeSync(this.fd, out);
    if (this.appendedDuringRewrite) this.appendedDuringRewrite.push(Buffer.from(out));
    this.dirty = true;
  }

  /**
   * Makes every appended line durable (before a checkpoint that relies on them is written). Asynchronous: a slow
   * disk must not block the event loop, where acks wait to be journaled.
   */
  async sync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const p = fsyncFd(this.fd);
    this.syncs.add(p);
    try {
      await p;
    } catch (err) {
      this.dirty = true;
      throw err;
    } finally {
      this.syncs.delete(p);
    }
  }

  /** Replaces the file atomically by the lines `produce` emits (synchronously, in one pass). */
  async rewrite(produce: (emit: LineSink) => void): Promise<void> {
    while (this.rewriting) await this.rewriting;
    this.rewriting = this.rewriteNow(produce).finally(() => {
      this.rewriting = undefined;
    });
    return this.rewriting;
  }

  async close(): Promise<void> {
    while (this.rewriting) await this.rewriting;
    await this.sync();
    await this.syncsDone();
    closeSync(this.fd);
    this.fd = -1;
  }

  private async syncsDone(): Promise<void> {
    while (this.syncs.size > 0) await Promise.allSettled([...this.syncs]);
  }

  private async rewriteNow(produce: (emit: LineSink) => void): Promise<void> {
    this.appendedDuringRewrite = [];
    try {
      // Lines go out through the shared scratch buffer (a whole-journal buffer was ~14 MB for 300,000 ids), in one
      // synchronous pass: the ids cannot change under it. Appends made while the file is synced and renamed are
      // caught by appendedDuringRewrite.
      const buf = scratch;
      await writeFileAtomicWith(this.file, (write) => {
        let at = 0;
        produce((id, ts, markValue, mark) => {
          const need = lineBytesMax(id);
          if (at + need > buf.length) {
            write(buf.subarray(0, at));
            at = 0;
          }
          if (need > buf.length)
            write(Buffer.from(encodeLine(id, ts, markValue, mark), 'utf8')); // an absurdly long id
          else at = writeLine(buf, at, id, ts, markValue, mark);
        });
        if (at > 0) write(buf.subarray(0, at));
      });
    } finally {
      // Appends keep landing in appendedDuringRewrite until the new file is open: one made while an fsync of the old
      // fd finishes would otherwise go only to the old (replaced) file and be missing after a restart.
      await this.syncsDone();
      const extra = this.appendedDuringRewrite;
      this.appendedDuringRewrite = undefined;
      closeSync(this.fd);
      this.fd = openSync(this.file, 'a');
      // Appends made while the new file was written went to the old one: append them to the new one too.
      for (const out of extra) writeSync(this.fd, out);
      this.dirty = extra.length > 0;
    }
  }
}
