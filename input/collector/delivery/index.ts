// The delivery core: which events of a stream are in flight and which are delivered, in memory and in the stream's
// id journal, so that no event is lost and none is forwarded twice, across re-fetches, restarts and kill -9.
//
// An event's delivery states (each chunk of a send group moves through them together):
//
// | state     | how it gets there                                   | recorded                         | a restart from here           |
// | --------- | --------------------------------------------------- | -------------------------------- | ----------------------------- |
// | fetched   | read from a page; its id is neither in flight nor   | nothing                          | fetched again (the checkpoint |
// |           | delivered (SeenIds.has)                             |                                  | never passed it)              |
// | in flight | reserved, grouped and handed to the forward client  | id table: NaN (memory only)      | fetched and sent again        |
// |           | (SeenIds.reserve, sendGroup)                        |                                  |                               |
// | written   | its chunk is about to be written to the socket      | `id ts sent@seq` in the journal, | the ledger decides: stored →  |
// |           | (--fluent-bit-http: onChunkWritten)                 | `W` in forward.ledger            | delivered; not stored or no   |
// |           |                                                     |                                  | verdict → as acked, or sent   |
// |           |                                                     |                                  | again                         |
// | acked     | Fluent Bit acked its chunk (onChunkAcked); the ack  | `id ts acked@ms` in the journal  | the uptime decides: Fluent    |
// |           | may still be lost (a threaded input acks from       | (--fluent-bit-http)              | Bit ran on since before the   |
// |           | memory)                                             |                                  | ack, through the settle time: |
// |           |                                                     |                                  | delivered; else sent again    |
// | delivered | the ack stood --ack-settle on an open connection    | id table: its event time;        | skipped when re-fetched       |
// |           | (onChunkSettled), or a restart found it stored      | `id ts` in the journal (a plain  | (kill -9 of the process keeps |
// |           |                                                     | write; fsync with the next       | the line; a power loss keeps  |
// |           |                                                     | checkpoint)                      | what the checkpoint relied on)|
// | passed    | the checkpoint moved past it (StreamStore.save:     | state file's checkpoint          | not fetched again             |
// |           | the journal is synced first)                        |                                  |                               |
// | compacted | older than the checkpoint − overlap (compact)       | dropped from table and journal   | not fetched again             |
// | forgotten | its send failed (connection lost before the ack     | id table: removed; its marked    | fetched and sent again        |
// |           | settled: FORWARD_UNSETTLED), or a restart could not | lines no longer count            |                               |
// |           | tell it was stored                                  |                                  |                               |
//
// Transitions happen in two places only: sendGroup (send.ts) during a run, and decideRestart (restart.ts) once at
// start, which must decide the written ids before the acked ones (the ledger's verdict on a write overrides its ack).
// Without --fluent-bit-http nothing is journaled at the write or the ack: a kill then repeats what was in flight.
export { IdBatch, IdBatchBuilder, type SeenEntry } from './id-batch.js';
export type { AckVerdict, RestartOracle, WriteLedger } from './oracle.js';
export { decideRestart, type RestartContext } from './restart.js';
export { SeenIds, type SeenIdsOptions } from './seen-ids.js';
export { sendGroup, type GroupHooks, type SendTarget } from './send.js';
