// A local HTTP server that answers the Splunk HTTP Event Collector's `/services/collector/event` the
// way Splunk does: `Authorization: Splunk <token>` check (401 missing, 403 invalid), a body of
// concatenated JSON event objects (gzip or not), per-body validation (400 "No data", "Invalid data
// format", "Event field is required", "Event field cannot be blank") and `{"text":"Success","code":0}`.
// Whole-request faults (503 server busy, 429, ...) are injectable. Every accepted event is recorded.
import { waitFor, closeServer } from './http-wait.js';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { splitConcatenated, parseStrict } from './json-text.js';

/** One event as Splunk would index it: the envelope's metadata and the event body. */
export interface HecEvent {
  readonly request: number;
  readonly time: number | undefined;
  readonly host: string | undefined;
  readonly source: string | undefined;
  readonly sourcetype: string | undefined;
  readonly index: string | undefined;
  readonly fields: Record<string, unknown> | undefined;
  readonly event: unknown;
  /** The envelope's JSON text as sent ('' when bodies are not retained). */
  readonly raw: string;
}

export interface HecRequestRecord {
  readonly seq: number;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly status: number;
  readonly response: { text: string; code: number; 'invalid-event-number'?: number };
  readonly body: string;
}

export interface HecReceiverOptions {
  /** Keep request bodies and each event's raw text (default true); false for very large runs. */
  readonly retainBodies?: boolean;
  /** Tokens accepted; default one random-looking token exposed as `token`. */
  readonly tokens?: readonly string[];
}

const EVENT_PATHS = new Set(['/services/collector', '/services/collector/event', '/services/collector/event/1.0']);

export class HecReceiver {
  readonly requests: HecRequestRecord[] = [];
  readonly events: HecEvent[] = [];
  readonly tokens: readonly string[];
  private readonly server: http.Server;
  private readonly faults: number[] = [];
  private waiters: Array<() => void> = [];
  private readonly retain: boolean;

  private constructor(options: HecReceiverOptions) {
    this.retain = options.retainBodies !== false;
    this.tokens = options.tokens ?? ['3f1c2a9e-7b1d-4c55-9e0a-5d2b8c4f6a71'];
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  static async start(options: HecReceiverOptions = {}): Promise<HecReceiver> {
    const r = new HecReceiver(options);
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', () => resolve());
    });
    return r;
  }

  get token(): string {
    return this.tokens[0]!;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next `count` requests (with a valid token) are answered `status` and nothing is indexed. */
  failNextRequests(count: number, status: number): void {
    for (let i = 0; i < count; i++) this.faults.push(status);
  }

  waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    return waitFor(this.waiters, predicate, timeoutMs, what, 'HEC receiver');
  }

  close(): Promise<void> {
    return closeServer(this.server);
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

  private respond(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let body = '';
    const answer = (status: number, response: HecRequestRecord['response']): void => {
      this.requests.push({
        seq: this.requests.length,
        path,
        authorization: req.headers.authorization,
        contentEncoding: req.headers['content-encoding'],
        status,
        response,
        body: this.retain ? body : '',
      });
      const text = JSON.stringify(response);
      res.writeHead(status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method !== 'POST') return answer(405, { text: 'Method not allowed', code: 404 });
    if (!EVENT_PATHS.has(path))
      return answer(404, { text: 'The requested URL was not found on this server.', code: 404 });
    const auth = req.headers.authorization;
    if (auth === undefined) return answer(401, { text: 'Token is required', code: 2 });
    const m = /^Splunk\s+(\S+)$/.exec(auth);
    if (m === null) return answer(401, { text: 'Invalid authorization', code: 3 });
    if (!this.tokens.includes(m[1]!)) return answer(403, { text: 'Invalid token', code: 4 });
    try {
      body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    } catch {
      return answer(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    }
    const fault = this.faults.shift();
    if (fault !== undefined) {
      return answer(
        fault,
        fault === 503 ? { text: 'Server is busy', code: 9 } : { text: `Injected ${fault}`, code: 8 },
      );
    }
    let texts: string[];
    try {
      texts = splitConcatenated(body);
    } catch {
      return answer(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    }
    if (texts.length === 0) return answer(400, { text: 'No data', code: 5 });
    // Splunk validates the whole body before indexing any of it.
    const batch: HecEvent[] = [];
    for (let n = 0; n < texts.length; n++) {
      let env: unknown;
      try {
        env = parseStrict(texts[n]!);
      } catch {
        return answer(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      if (typeof env !== 'object' || env === null || Array.isArray(env)) {
        return answer(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      const e = env as Record<string, unknown>;
      if (!('event' in e)) return answer(400, { text: 'Event field is required', code: 12, 'invalid-event-number': n });
      if (e.event === null || e.event === '' || (typeof e.event === 'object' && Object.keys(e.event).length === 0)) {
        return answer(400, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': n });
      }
      const time = e.time === undefined ? undefined : Number(e.time);
      if (time !== undefined && !Number.isFinite(time)) {
        return answer(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': n });
      }
      const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
      batch.push({
        request: this.requests.length,
        time,
        host: str(e.host),
        source: str(e.source),
        sourcetype: str(e.sourcetype),
        index: str(e.index),
        fields: typeof e.fields === 'object' && e.fields !== null ? (e.fields as Record<string, unknown>) : undefined,
        event: e.event,
        raw: this.retain ? texts[n]! : '',
      });
    }
    this.events.push(...batch);
    return answer(200, { text: 'Success', code: 0 });
  }
}
