// The demo's stand-in for Fluent Bit when none listens at --forward: a ForwardClient that runs each record
// through build/jumpcloud.wasm in this process (the ABI Fluent Bit's wasm filter uses, input/wasm/filter-host.ts),
// appends every ECS document to an NDJSON file and only then "acks" (resolves the send), so the collector's
// checkpoint still advances only past documents that exist. In production Fluent Bit does this mapping.
import { closeSync, openSync, writeSync } from 'node:fs';
import { isMessageBatch } from '../forward/frames.js';
import { decodeUtf8Values } from '../forward/utf8-bytes.js';
import type { ForwardClient, ForwardEntry, MessageBatch } from '../types.js';
import { FilterHost } from '../wasm/filter-host.js';

export interface LocalFilterOptions {
  /** The module (default build/jumpcloud.wasm of this package). */
  readonly wasmPath?: string;
  /** jumpcloud_ecs or jumpcloud_elastic. */
  readonly functionName: string;
  /** Every document is appended here, one JSON object per line. */
  readonly ndjsonPath: string;
  /** Called with each document's text after it is written (the readable view). */
  readonly onDocument?: (doc: string, tag: string) => void;
}

export interface LocalFilter extends ForwardClient {
  /** Documents written so far. */
  readonly documents: number;
  /** Records the module failed on; each was written as the raw record with an `error.message` instead. */
  readonly failures: number;
}

interface RecordIn {
  readonly json: string;
  readonly sec: number;
  readonly nsec: number;
}

/** The records of one send as Fluent Bit hands them to the filter with event_format json. */
function* recordsOf(entries: readonly ForwardEntry[] | MessageBatch): Generator<RecordIn> {
  if (isMessageBatch(entries)) {
    const body = Buffer.from(entries.body.buffer, entries.body.byteOffset, entries.body.byteLength);
    for (let i = 0; i < entries.length; i++) {
      const message = body.toString('utf8', entries.start[i], entries.end[i]);
      yield { json: JSON.stringify({ message }), sec: entries.sec[i]!, nsec: entries.nsec[i]! };
    }
    return;
  }
  for (const e of entries)
    yield { json: JSON.stringify(decodeUtf8Values(e.record)), sec: e.time.sec, nsec: e.time.nsec };
}

export function createLocalFilter(options: LocalFilterOptions): LocalFilter {
  const host = new FilterHost(options.wasmPath);
  const fd = openSync(options.ndjsonPath, 'w');
  let documents = 0;
  let failures = 0;
  let closed = false;

  function mapOne(tag: string, rec: RecordIn): string {
    try {
      const doc = host.call(options.functionName, rec.json, tag, [rec.sec, rec.nsec]);
      if (doc !== '') return doc;
      throw new Error('the filter returned "" (Fluent Bit would drop the record)');
    } catch (err) {
      // Nothing is dropped: the raw record is kept, annotated with why it is not mapped.
      failures++;
      const raw = JSON.parse(rec.json) as Record<string, unknown>;
      return JSON.stringify({ ...raw, error: { message: `demo: mapping failed: ${(err as Error).message}` } });
    }
  }

  return {
    get documents() {
      return documents;
    },
    get failures() {
      return failures;
    },
    async send(tag, entries, opts) {
      if (closed) throw new Error('the demo mapping is closed');
      const docs: string[] = [];
      for (const rec of recordsOf(entries)) docs.push(mapOne(tag, rec));
      // The entries' bytes are not read after this point.
      opts?.onEncoded?.();
      writeSync(fd, docs.length > 0 ? `${docs.join('\n')}\n` : '');
      documents += docs.length;
      for (const doc of docs) options.onDocument?.(doc, tag);
    },
    async close() {
      if (!closed) {
        closed = true;
        closeSync(fd);
      }
      return true;
    },
  };
}
