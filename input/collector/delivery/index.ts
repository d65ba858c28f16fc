// The delivery core: which events of a stream are in flight and which are delivered, in memory and in the stream's
// id journal, so that no event is lost and none is forwarded twice, across re-fetches, restarts and kill -9.
//
// An event's delivery states (each chunk of a send group moves through them together):
//
// | state     | entered when                       | recorded                       | a restart (kill -9) from here   |
// | --------- | ---------------------------------- | ------------------------------ | ------------------------------- |
// | fetched   | read from a page; its id is        | nothing                        | fetched again: the checkpoint   |
// |           | neither in flight nor delivered    |                                | never passed it                 |
// |           | (SeenIds.has)                      |                                |                                 |
// | in flight | reserved and handed to the forward | id table: NaN (memory only)    | fetched and sent again          |
// |           | client in a group (reserve,        |                                |                                 |
// |           | sendGroup)                         |                                |                                 |
// | written   | its chunk is about to go on the    | journal `id ts sent@seq`;      | the ledger decides: stored →    |
// |           | socket (onChunkWritten;            | forward.ledger `W`             | delivered; not stored → sent    |
// |           | --fluent-bit-http)                 |                                | again; no verdict → as acked if |
// |           |                                    |                                | acked, else sent again          |
// | acked     | Fluent Bit acked its chunk         | journal `id ts acked@ms`       | the uptime decides: Fluent Bit  |
// |           | (onChunkAcked); a threaded input   | (--fluent-bit-http)            | ran on from before the ack      |
// |           | acks from memory, so the ack may   |                                | through --ack-settle →          |
// |           | still be lost                      |                                | delivered; else sent again      |
// | delivered | the ack stood --ack-settle on an   | id table: its event time;      | skipped when fetched again      |
// |           | open connection (onChunkSettled),  | journal `id ts` (a plain       |                                 |
// |           | or a restart found it stored       | write; fsync before the next   |                                 |
// |           |                                    | checkpoint)                    |                                 |
// | passed    | the checkpoint moved past its time | the state file's checkpoint    | not fetched again               |
// |           | (StreamStore.save syncs the        |                                |                                 |
// |           | journal first)                     |                                |                                 |
// | compacted | older than checkpoint − overlap    | dropped from table and journal | not fetched again               |
// |           | (compact)                          |                                |                                 |
// | forgotten | its send failed (a connection lost | id table: removed; its marked  | fetched and sent again          |
// |           | before the ack settled:            | lines no longer count          |                                 |
// |           | FORWARD_UNSETTLED), or a restart   |                                |                                 |
// |           | could not tell it was stored       |                                |                                 |
//
// Transitions happen in two places only: sendGroup (send.ts) during a run, and decideRestart (restart.ts) once at
// start, which must decide the written ids before the acked ones (the ledger's verdict on a write overrides its ack).
// Without --fluent-bit-http nothing is journaled at the write or the ack: a kill then repeats what was in flight.
export { IdBatch, IdBatchBuilder, type SeenEntry } from './id-batch.js';
export type { AckVerdict, RestartOracle, WriteLedger } from './oracle.js';
export { decideRestart, type RestartContext } from './restart.js';
export { SeenIds, type SeenIdsOptions } from './seen-ids.js';
export { sendGroup, type GroupHooks, type SendTarget } from './send.js';
