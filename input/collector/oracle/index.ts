// Opening the forward ledger at start-up (--fluent-bit-http), with what it decided said in the log: which chunks in
// flight at the last stop Fluent Bit stored, or why it could not tell (then they are sent again, as without it).
import type { Logger } from '../../types.js';
import type { FluentBitHttpTarget } from './http.js';
import { FluentBitInputMissingError, FluentBitRecords } from './records.js';
import type { FluentBitUptime } from './uptime.js';
import { LEDGER_FILE, SendLedger } from './send-ledger.js';
import path from 'node:path';

export async function openLedger(stateDir: string, http: FluentBitHttpTarget, input: string, uptime: FluentBitUptime, settleMs: number, logger: Logger): Promise<SendLedger | undefined> {
  const records = new FluentBitRecords(http, input);
  try {
    const { ledger, resolution: r } = await SendLedger.open({ stateDir, records, uptime, settleMs, logger });
    const fields = { input, storedChunks: r.stored, storedEvents: r.storedEntries, resentChunks: r.notStored, resentEvents: r.notStoredEntries };
    if (r.undecided !== undefined) {
      if (r.notStored > 0) logger.warn({ ...fields, reason: r.undecided }, 'cannot tell which chunks written since the last start Fluent Bit stored: those in flight at the stop are sent again');
      else logger.warn({ input, reason: r.undecided }, 'no baseline of Fluent Bit\'s input counter yet: chunks in flight at a kill would be sent again (retried when nothing is in flight)');
    } else if (r.stored + r.notStored > 0) {
      logger.info(fields, 'chunks written since the last start: Fluent Bit\'s input counted the first ones as stored (those in flight at the stop are not sent again), the rest are sent again');
    }
    return ledger;
  } catch (err) {
    if (!(err instanceof FluentBitInputMissingError)) throw err;
    SendLedger.voidFile(path.join(stateDir, LEDGER_FILE));
    logger.warn({ input, error: err.message }, 'no forward ledger: chunks in flight at a kill will be sent again');
    return undefined;
  }
}
