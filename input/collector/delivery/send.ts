// One send group through the delivery states (index.ts): the only place where the forward client's chunk events
// move ids from in flight to written, acked and delivered, or back to forgotten.
import type { ForwardClient, MessageBatch, SendOptions } from '../../types.js';
import type { IdBatch } from './id-batch.js';
import type { WriteLedger } from './oracle.js';
import type { SeenIds } from './seen-ids.js';

/** Where one stream's groups go, and who hears of what was delivered. */
export interface SendTarget {
  readonly seen: SeenIds;
  readonly forward: ForwardClient;
  readonly tag: string;
  /** The oracle's forward ledger (--fluent-bit-http): numbers each chunk written. */
  readonly writes?: WriteLedger;
  /** `n` more events were delivered (their acks settled). */
  delivered(n: number): void;
}

/** Callbacks of one group's send, for the pipeline that feeds it. */
export interface GroupHooks {
  /** Every entry is encoded into the forward client's frames: the page's bytes may be reused. */
  readonly onEncoded: () => void;
  /** The forward client is done with the send (every chunk settled, or the send failed). */
  readonly onSent: () => void;
}

/**
 * Sends `entries` (their ids `ids`, reserved: in flight) and follows each chunk of the send:
 *   written (about to go on the socket) → journaled sent@seq and numbered in the ledger (--fluent-bit-http)
 *   acked → journaled acked@ms (--fluent-bit-http)
 *   settled (its ack stood --ack-settle) → delivered: journaled, counted
 *   the send failed → every id of the group not delivered is forgotten (fetched and sent again)
 * A journal write that fails fails the send. Resolves once every chunk is delivered; rejects with the send's failure
 * after forgetting.
 */
export function sendGroup(t: SendTarget, entries: MessageBatch, ids: IdBatch, hooks: GroupHooks): Promise<void> {
  const { seen } = t;
  let settled = 0;
  let journalError: unknown;
  const journal = (write: () => void): void => {
    try {
      write();
    } catch (err) {
      journalError ??= err;
    }
  };
  const writes = t.writes ? new LedgerWrites(t.writes) : undefined;
  const settledRange = (from: number, to: number): void => {
    journal(() => seen.commit(ids, from, to));
    writes?.done(from);
    settled += to - from;
    t.delivered(to - from);
  };
  const opts: SendOptions = {
    onEncoded: hooks.onEncoded,
    onChunkAcked: (from, to, ackedAt) => journal(() => seen.acked(ids, from, to, ackedAt)),
    onChunkSettled: settledRange,
    ...(writes
      ? {
          onChunkWritten: (from: number, to: number, connection: number, bytes: number) =>
            journal(() => seen.written(ids, from, to, writes.written(from, to, bytes, connection))),
        }
      : {}),
  };
  return t.forward
    .send(t.tag, entries, opts)
    .finally(hooks.onSent)
    .then(() => {
      // A client that reports no chunks (a test double): the whole send settled now.
      if (settled === 0) settledRange(0, ids.length);
      if (journalError !== undefined) throw journalError;
    })
    .catch((err: unknown) => {
      seen.release(ids);
      throw err;
    })
    .finally(() => writes?.done());
}

/** The ledger's number of each chunk's latest write (by its first entry): done once it settled or failed. */
class LedgerWrites {
  private readonly seqs = new Map<number, number>();

  constructor(private readonly ledger: WriteLedger) {}

  /** The chunk from `from` is written (again): its new number; an earlier write's fate no longer matters here. */
  written(from: number, to: number, bytes: number, connection: number): number {
    const seq = this.ledger.written(to - from, bytes, connection);
    const before = this.seqs.get(from);
    this.seqs.set(from, seq);
    if (before !== undefined) this.ledger.done(before);
    return seq;
  }

  /** The chunk from `from` settled (or, without `from`, every chunk of the send is over). */
  done(from?: number): void {
    for (const [f, seq] of this.seqs) {
      if (from !== undefined && f !== from) continue;
      this.seqs.delete(f);
      this.ledger.done(seq);
    }
  }
}
