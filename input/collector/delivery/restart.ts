// A restart's decision on what the last run had in flight at its stop: the only place where ids journaled as
// written (sent@) or acked (acked@) become delivered or forgotten. One ordered function; the order matters (index.ts).
import type { Logger } from '../../types.js';
import type { SeenEntry } from './id-batch.js';
import type { AckVerdict, RestartOracle } from './oracle.js';
import type { InFlightAtStop, SeenIds } from './seen-ids.js';

export interface RestartContext {
  readonly logger: Logger;
  readonly labels: { readonly org: string; readonly service: string };
  readonly signal?: AbortSignal;
}

/**
 * Decides the ids the journal holds as in flight at the last stop, in this order:
 * 1. written (sent@): the forward ledger decides each from Fluent Bit's input counter — stored: delivered; found not
 *    stored: forgotten, acked or not. First, because its verdict overrides an ack: step 2 must not confirm an ack
 *    the ledger found not stored, nor ask Fluent Bit about one the ledger found stored.
 * 2. acked (acked@) and not decided by step 1: Fluent Bit's uptime decides — it ran on since before the ack until the
 *    settle time passed: delivered; otherwise forgotten.
 * 3. everything else (fetched, or written without a verdict and never acked) is forgotten.
 * Forgotten ids are fetched and sent again: the checkpoint never passed them. Delivered ones are journaled as such.
 */
export async function decideRestart(
  seen: SeenIds,
  oracle: RestartOracle | undefined,
  ctx: RestartContext,
): Promise<void> {
  const atStop = seen.takeInFlightAtStop();
  decideWrites(seen, atStop, oracle, ctx);
  await decideAcks(seen, atStop, oracle, ctx);
}

function decideWrites(
  seen: SeenIds,
  atStop: InFlightAtStop,
  oracle: RestartOracle | undefined,
  ctx: RestartContext,
): void {
  if (atStop.written.size === 0) return;
  const delivered: SeenEntry[] = [];
  let notStored = 0,
    undecided = 0;
  for (const [id, [ts, ...seqs]] of atStop.written) {
    const verdicts = seqs.map((seq) => oracle?.writeStored(seq));
    if (verdicts.includes(true)) {
      delivered.push({ id, ts: ts! });
      atStop.acked.delete(id);
    } else if (verdicts.every((v) => v === false)) {
      notStored++;
      atStop.acked.delete(id);
    } else undecided++;
  }
  atStop.written.clear();
  seen.commit(delivered);
  if (delivered.length + notStored > 0) {
    ctx.logger.info(
      { ...ctx.labels, stored: delivered.length, resent: notStored, undecided },
      'events written to Fluent Bit just before the collector stopped: those its input counted as stored are not ' +
        'sent again, the others are',
    );
  }
}

async function decideAcks(
  seen: SeenIds,
  atStop: InFlightAtStop,
  oracle: RestartOracle | undefined,
  ctx: RestartContext,
): Promise<void> {
  const count = atStop.acked.size;
  if (count === 0) return;
  const { logger, labels } = ctx;
  const confirm = (stored: (ackedAt: number) => boolean): { confirmed: number; dropped: number } => {
    const confirmed: SeenEntry[] = [];
    for (const [id, [ts, ackedAt]] of atStop.acked) if (stored(ackedAt)) confirmed.push({ id, ts });
    atStop.acked.clear();
    seen.commit(confirmed);
    return { confirmed: confirmed.length, dropped: count - confirmed.length };
  };
  if (!oracle) {
    confirm(() => false);
    logger.info(
      { ...labels, events: count },
      'events acked by Fluent Bit less than --ack-settle before the collector stopped: sending them again (set ' +
        "--fluent-bit-http to confirm them from Fluent Bit's uptime instead)",
    );
    return;
  }
  let newest = -Infinity;
  for (const [, ackedAt] of atStop.acked.values()) if (ackedAt > newest) newest = ackedAt;
  let verdict: AckVerdict;
  try {
    verdict = await oracle.acksStored(newest, ctx.signal);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    confirm(() => false);
    logger.warn(
      { ...labels, events: count, error: (err as Error).message },
      'cannot tell whether Fluent Bit restarted since it acked events just before the collector stopped: sending ' +
        'them again',
    );
    return;
  }
  const { confirmed, dropped } = confirm((ackedAt) => verdict.stored(ackedAt));
  const fields = { ...labels, confirmed, resent: dropped, ...verdict.evidence };
  if (dropped === 0) {
    logger.info(
      fields,
      'Fluent Bit ran on since its last acks before the collector stopped: those events are stored, not sending ' +
        'them again',
    );
  } else {
    logger.warn(
      fields,
      'Fluent Bit restarted since some acks made just before the collector stopped: sending those events again',
    );
  }
}
