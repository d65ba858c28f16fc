// A local HTTP server that answers `_bulk` the way Elasticsearch 8 does, for the end-to-end tests.
// It parses the NDJSON body (gzip or not), applies create/index semantics per (index, _id), answers
// per-item results, and records every request and every item. Faults are injectable: a whole-request
// status (429, 503, ...) and per-item errors (429, 400, ...), so the retry behaviour of a real Fluent Bit
// can be observed. Documents with a duplicate key are rejected like Elasticsearch does (400, item error).
import { waitFor, closeServer } from './http-wait.js';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseStrict } from './json-text.js';

export type BulkOp = 'create' | 'index' | 'update' | 'delete';

/** One item of one `_bulk` request, as received. */
export interface BulkItem {
  /** Sequence number of the request it came in (0-based). */
  readonly request: number;
  readonly op: BulkOp;
  readonly index: string;
  /** `_id` from the action line; undefined when Elasticsearch would generate one. */
  readonly id: string | undefined;
  /** The action line exactly as sent. */
  readonly actionLine: string;
  /** The document line exactly as sent (undefined for delete, or when bodies are not retained). */
  readonly sourceLine: string | undefined;
  readonly source: Record<string, unknown> | undefined;
  /** Status answered for this item. */
  status: number;
}

export interface BulkRequestRecord {
  readonly seq: number;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly authorization: string | undefined;
  /** HTTP status answered. */
  readonly status: number;
  /** The decoded (gunzipped) body ('' when bodies are not retained). */
  readonly body: string;
  readonly items: BulkItem[];
}

/** An item-level failure to inject; Elasticsearch's error types for the usual cases. */
export interface ItemFault {
  readonly status: number;
  readonly type?: string;
  readonly reason?: string;
}

export interface BulkReceiverOptions {
  /** Expected `Authorization` header value; requests without it get 401. */
  readonly authorization?: string;
  /** Keep each request's body and each item's raw lines (default true); false for very large runs. */
  readonly retainBodies?: boolean;
  /**
   * Names treated as data streams (create only, @timestamp required). Default: names starting with `logs-`, `metrics-`,
   * `traces-`.
   */
  readonly isDataStream?: (index: string) => boolean;
}

interface StoredDoc {
  readonly source: Record<string, unknown>;
  version: number;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'mapper_parsing_exception',
  409: 'version_conflict_engine_exception',
  429: 'es_rejected_execution_exception',
  500: 'internal_server_error',
  503: 'unavailable_shards_exception',
};

export class BulkReceiver {
  readonly requests: BulkRequestRecord[] = [];
  /** Stored documents by index, then _id. */
  readonly indices = new Map<string, Map<string, StoredDoc>>();
  private readonly server: http.Server;
  private readonly requestFaults: number[] = [];
  private readonly itemFaults = new Map<number, ItemFault>();
  private readonly requestItemFaults: ItemFault[] = [];
  private itemSeq = 0;
  private readonly options: BulkReceiverOptions;
  private waiters: Array<() => void> = [];

  private constructor(options: BulkReceiverOptions) {
    this.options = options;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(options: BulkReceiverOptions = {}): Promise<BulkReceiver> {
    const r = new BulkReceiver(options);
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', () => resolve());
    });
    return r;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next `count` `_bulk` requests are answered with `status` as a whole (nothing is stored). */
  failNextRequests(count: number, status: number): void {
    for (let i = 0; i < count; i++) this.requestFaults.push(status);
  }

  /** The item with this global sequence number (0-based, counting every item ever received) fails. */
  failItem(itemSeq: number, fault: ItemFault): void {
    this.itemFaults.set(itemSeq, fault);
  }

  /** Every item of each of the next `count` `_bulk` requests fails with `fault` (errors: true, HTTP 200). */
  failAllItemsOfNextRequests(count: number, fault: ItemFault): void {
    for (let i = 0; i < count; i++) this.requestItemFaults.push(fault);
  }

  /** Every item received, across all requests, in order. */
  items(): BulkItem[] {
    return this.requests.flatMap((r) => r.items);
  }

  /** Stored documents of one index (or data stream), by _id. */
  documents(index: string): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const [id, d] of this.indices.get(index) ?? []) out.set(id, d.source);
    return out;
  }

  /** Number of stored documents over all indices. */
  storedCount(): number {
    let n = 0;
    for (const m of this.indices.values()) n += m.size;
    return n;
  }

  /** Resolves when `predicate` holds, re-checked after every request; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return waitFor(this.waiters, predicate, timeoutMs, what, 'bulk receiver');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private isDataStream(index: string): boolean {
    return this.options.isDataStream?.(index) ?? /^(logs|metrics|traces)-/.test(index);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.respond(req, Buffer.concat(chunks), res);
      } finally {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private respond(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/') {
      this.send(res, 200, { name: 'bulk-receiver', version: { number: '8.15.0' }, tagline: 'You Know, for Search' });
      return;
    }
    const m = /^(?:\/([^/]+))?\/_bulk$/.exec(url.pathname);
    if (req.method !== 'POST' && req.method !== 'PUT') {
      this.send(res, 405, { error: `Incorrect HTTP method for uri [${url.pathname}]`, status: 405 });
      return;
    }
    if (m === null) {
      this.send(res, 404, { error: { type: 'no_handler', reason: `no handler for ${url.pathname}` }, status: 404 });
      return;
    }
    const defaultIndex = m[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    const seq = this.requests.length;
    const record = (status: number, body: string, items: BulkItem[]): void => {
      this.requests.push({
        seq,
        path: url.pathname,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        authorization: req.headers.authorization,
        status,
        body: this.options.retainBodies === false ? '' : body,
        items,
      });
    };

    if (this.options.authorization !== undefined && req.headers.authorization !== this.options.authorization) {
      record(401, '', []);
      this.send(res, 401, {
        error: { type: 'security_exception', reason: 'missing authentication credentials' },
        status: 401,
      });
      return;
    }
    let body: string;
    try {
      body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    } catch (e) {
      record(400, '', []);
      this.send(res, 400, {
        error: { type: 'parse_exception', reason: `bad gzip body: ${(e as Error).message}` },
        status: 400,
      });
      return;
    }
    const fault = this.requestFaults.shift();
    if (fault !== undefined) {
      record(fault, body, []);
      const type = ERROR_TYPES[fault] ?? 'exception';
      this.send(res, fault, { error: { type, reason: `injected ${fault}` }, status: fault });
      return;
    }
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (ct !== 'application/x-ndjson' && ct !== 'application/json') {
      record(406, body, []);
      this.send(res, 406, { error: `Content-Type header [${ct}] is not supported`, status: 406 });
      return;
    }
    if (body.length === 0 || !body.endsWith('\n')) {
      record(400, body, []);
      this.send(res, 400, {
        error: { type: 'illegal_argument_exception', reason: 'The bulk request must be terminated by a newline [\\n]' },
        status: 400,
      });
      return;
    }
    const parsed = this.parseBody(body, seq, defaultIndex);
    if (typeof parsed === 'string') {
      record(400, body, []);
      this.send(res, 400, { error: { type: 'illegal_argument_exception', reason: parsed }, status: 400 });
      return;
    }
    const allFail = this.requestItemFaults.shift();
    const results = parsed.map(({ item, sourceError }) => this.apply(item, sourceError, allFail));
    record(
      200,
      body,
      parsed.map((p) => p.item),
    );
    this.send(res, 200, {
      took: 1,
      errors: results.some((r) => r.status >= 300),
      items: results.map((r) => ({ [r.op]: r.body })),
    });
  }

  /** Splits the NDJSON into items; a malformed action line fails the whole request like Elasticsearch. */
  private parseBody(
    body: string,
    request: number,
    defaultIndex: string | undefined,
  ): Array<{ item: BulkItem; sourceError?: string }> | string {
    const lines = body.split('\n');
    lines.pop(); // the text after the final newline is empty
    const out: Array<{ item: BulkItem; sourceError?: string }> = [];
    for (let i = 0; i < lines.length;) {
      const actionLine = lines[i]!;
      if (actionLine.trim() === '') {
        i++;
        continue;
      }
      let action: unknown;
      try {
        action = parseStrict(actionLine);
      } catch (e) {
        return `Malformed action/metadata line [${i + 1}]: ${(e as Error).message}`;
      }
      if (typeof action !== 'object' || action === null || Object.keys(action).length !== 1) {
        return `Malformed action/metadata line [${i + 1}], expected a single action`;
      }
      const [opName, metaRaw] = Object.entries(action)[0]!;
      if (!['create', 'index', 'update', 'delete'].includes(opName)) {
        return (
          `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but ` +
          `found [${opName}]`
        );
      }
      const meta = (metaRaw ?? {}) as Record<string, unknown>;
      if ('_type' in meta) return `Action/metadata line [${i + 1}] contains an unknown parameter [_type]`;
      const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
      if (index === undefined) return `Validation Failed: 1: index is missing for line [${i + 1}]`;
      const op = opName as BulkOp;
      let sourceLine: string | undefined;
      let source: Record<string, unknown> | undefined;
      let sourceError: string | undefined;
      if (op !== 'delete') {
        sourceLine = lines[i + 1];
        if (sourceLine === undefined) return `The bulk request must be terminated by a newline [\\n]`;
        try {
          const v = parseStrict(sourceLine);
          if (typeof v !== 'object' || v === null || Array.isArray(v))
            sourceError = 'the document is not a JSON object';
          else source = v as Record<string, unknown>;
        } catch (e) {
          sourceError = (e as Error).message;
        }
        i += 2;
      } else {
        i += 1;
      }
      const id = typeof meta._id === 'string' ? meta._id : undefined;
      const keep = this.options.retainBodies !== false;
      const item: BulkItem = {
        request,
        op,
        index,
        id,
        actionLine,
        sourceLine: keep ? sourceLine : undefined,
        source,
        status: 0,
      };
      out.push(sourceError === undefined ? { item } : { item, sourceError });
    }
    return out;
  }

  private apply(
    item: BulkItem,
    sourceError: string | undefined,
    allFail: ItemFault | undefined,
  ): { op: BulkOp; status: number; body: Record<string, unknown> } {
    const seq = this.itemSeq++;
    const fail = (status: number, type: string, reason: string) => {
      item.status = status;
      return {
        op: item.op,
        status,
        body: { _index: item.index, _id: item.id ?? null, status, error: { type, reason } },
      };
    };
    const injected = allFail ?? this.itemFaults.get(seq);
    if (injected !== undefined) {
      this.itemFaults.delete(seq);
      return fail(
        injected.status,
        injected.type ?? ERROR_TYPES[injected.status] ?? 'exception',
        injected.reason ?? `injected item fault ${injected.status}`,
      );
    }
    if (sourceError !== undefined) return fail(400, 'document_parsing_exception', `failed to parse: ${sourceError}`);
    const dataStream = this.isDataStream(item.index);
    if (dataStream && item.op !== 'create') {
      return fail(
        400,
        'illegal_argument_exception',
        `only write ops with an op_type of create are allowed in data streams`,
      );
    }
    if (item.op === 'update' || item.op === 'delete') {
      return fail(400, 'action_request_validation_exception', `${item.op} is not supported by this receiver`);
    }
    if (dataStream && (item.source === undefined || !('@timestamp' in item.source))) {
      return fail(400, 'document_parsing_exception', 'data stream timestamp field [@timestamp] is missing');
    }
    let docs = this.indices.get(item.index);
    if (docs === undefined) {
      docs = new Map();
      this.indices.set(item.index, docs);
    }
    const id = item.id ?? randomUUID();
    const existing = docs.get(id);
    if (existing !== undefined && item.op === 'create') {
      return fail(
        409,
        'version_conflict_engine_exception',
        `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
      );
    }
    const version = (existing?.version ?? 0) + 1;
    docs.set(id, { source: item.source!, version });
    item.status = existing === undefined ? 201 : 200;
    return {
      op: item.op,
      status: item.status,
      body: {
        _index: item.index,
        _id: id,
        _version: version,
        result: existing === undefined ? 'created' : 'updated',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: seq,
        _primary_term: 1,
        status: item.status,
      },
    };
  }
}
