// The restart oracle (--fluent-bit-http): what Fluent Bit's built-in HTTP server tells a restart of the collector
// about the chunks the last run had in flight — the delivery core's RestartOracle (delivery/oracle.ts). Two answers:
// - its uptime (uptime.ts): an acked chunk whose ack had not settled was stored when the Fluent Bit that acked it
//   kept running through the settle time;
// - its forward input's record counter (records.ts) against the forward ledger (send-ledger.ts): which chunks
//   written and never acked it stored.
// One optional component: the engine opens it once, before any stream writes, and gives it to every stream.
import path from 'node:path';
import type { Clock, Logger } from '../../types.js';
import type { AckVerdict, RestartOracle } from '../delivery/index.js';
import type { FluentBitHttpTarget } from './http.js';
import { FluentBitInputMissingError, FluentBitRecords } from './records.js';
import { probeShippedHttp } from './probe.js';
import { LEDGER_FILE, SendLedger } from './send-ledger.js';
import { FluentBitUptime, storedSince } from './uptime.js';

export type { FluentBitHttpTarget } from './http.js';

export interface FluentBitOracleOptions {
  readonly stateDir: string;
  readonly http: FluentBitHttpTarget;
  /** The forward input dedicated to the collector (its name or Alias in /api/v1/metrics). */
  readonly input: string;
  /** --ack-settle. */
  readonly settleMs: number;
  readonly logger: Logger;
  /** The forward client's clock (its ack times are compared with Fluent Bit's uptime, which is real time). */
  readonly clock: Clock;
}

export class FluentBitOracle implements RestartOracle {
  private constructor(
    private readonly uptime: FluentBitUptime,
    private readonly ledger: SendLedger | undefined,
    private readonly settleMs: number,
    private readonly clock: Clock,
  ) {}

  get writes(): SendLedger | undefined {
    return this.ledger;
  }

  /**
   * Asks Fluent Bit about the last run's writes and takes a baseline of its input's counter, before any stream
   * writes. An input that Fluent Bit does not list is a configuration mistake that no ledger can work with: said
   * once, and the oracle goes on with the uptime alone (chunks in flight at a kill are then sent again).
   */
  static async open(o: FluentBitOracleOptions): Promise<FluentBitOracle> {
    const uptime = new FluentBitUptime(o.http, o.clock);
    const records = new FluentBitRecords(o.http, o.input, o.clock);
    const ledger = (await inputListed(records, o)) ? await openLedger(o, records, uptime) : undefined;
    return new FluentBitOracle(uptime, ledger, o.settleMs, o.clock);
  }

  writeStored(seq: number): boolean | undefined {
    return this.ledger?.delivered(seq);
  }

  async acksStored(newestAckedAt: number, signal?: AbortSignal): Promise<AckVerdict> {
    // The answer must come after the settle time of the newest ack: wait out the rest of it (at most --ack-settle).
    const notBefore = newestAckedAt + this.settleMs;
    const wait = notBefore - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, signal);
    signal?.throwIfAborted();
    const answer = await this.uptime.answer(notBefore);
    return {
      stored: (ackedAt) => storedSince(answer, ackedAt, this.settleMs),
      evidence: { fluentBitStartedBefore: new Date(answer.startedBefore).toISOString() },
    };
  }

  async close(): Promise<void> {
    await this.ledger?.close();
  }
}

/**
 * The oracle of a run, or none. An address the user named is used as given (what it cannot answer is said where it
 * matters); `auto`'s shipped address only when a Fluent Bit there lists the input (probe.ts), else said once.
 */
export async function openOracle(
  o: FluentBitOracleOptions & { readonly auto: boolean; readonly forward: FluentBitHttpTarget; signal?: AbortSignal },
): Promise<FluentBitOracle | undefined> {
  if (o.auto) {
    const v = await probeShippedHttp({ http: o.http, input: o.input, forward: o.forward, clock: o.clock, ...sig(o) });
    if (!v.use) {
      o.logger.warn({ fluentBitHttp: `${o.http.host}:${o.http.port}` }, v.reason);
      return undefined;
    }
    o.logger.info(
      { fluentBitHttp: `${o.http.host}:${o.http.port}`, input: o.input },
      "--fluent-bit-http auto: the shipped pipeline's HTTP server answers; a restart of the collector alone sends " +
        'nothing stored again',
    );
  }
  return FluentBitOracle.open(o);
}

const sig = (o: { signal?: AbortSignal }): { signal?: AbortSignal } => (o.signal ? { signal: o.signal } : {});

/**
 * False when Fluent Bit does not list the input (said once; the old ledger is voided: never decided later against
 * another input's counter); true otherwise, also when Fluent Bit does not answer (then the ledger decides nothing).
 */
async function inputListed(records: FluentBitRecords, o: FluentBitOracleOptions): Promise<boolean> {
  try {
    await records.read();
  } catch (err) {
    if (!(err instanceof FluentBitInputMissingError)) return true;
    SendLedger.voidFile(path.join(o.stateDir, LEDGER_FILE));
    o.logger.warn(
      { input: o.input, error: err.message },
      'no forward ledger: chunks in flight at a kill will be sent again',
    );
    return false;
  }
  return true;
}

/** Opens the forward ledger, saying in the log what it decided about the last run's writes (or why it could not). */
async function openLedger(
  o: FluentBitOracleOptions,
  records: FluentBitRecords,
  uptime: FluentBitUptime,
): Promise<SendLedger> {
  const { logger, input } = o;
  const { ledger, resolution: r } = await SendLedger.open({
    stateDir: o.stateDir,
    records,
    uptime,
    settleMs: o.settleMs,
    logger,
    clock: o.clock,
  });
  const fields = {
    input,
    storedChunks: r.stored,
    storedEvents: r.storedEntries,
    resentChunks: r.notStored,
    resentEvents: r.notStoredEntries,
  };
  if (r.undecided !== undefined) {
    if (r.notStored > 0) {
      logger.warn(
        { ...fields, reason: r.undecided },
        'cannot tell which chunks written since the last start Fluent Bit stored: those in flight at the stop are ' +
          'sent again',
      );
    } else {
      logger.warn(
        { input, reason: r.undecided },
        "no baseline of Fluent Bit's input counter yet: chunks in flight at a kill would be sent again (retried " +
          'when nothing is in flight)',
      );
    }
  } else if (r.stored + r.notStored > 0) {
    logger.info(
      fields,
      "chunks written since the last start: Fluent Bit's input counted the first ones as stored (those in flight at " +
        'the stop are not sent again), the rest are sent again',
    );
  }
  return ledger;
}
