// A loopback HTTP proxy in front of a real OpenSearch node that can answer 429 (the node's own "too many
// requests": es_rejected_execution_exception) to every _bulk for a while, as a loaded cluster does, and can
// stop passing _bulk requests after the first k were indexed (their connections dropped, as a stopped node's
// are), so that a test restarts the node at a known point mid-run. When the node is down, a request's
// connection is dropped, as a stopped server's would be.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../../support/http-wait.js';

export class RefusingProxy {
  /** _bulk answers by status ('dropped': the node was unreachable). */
  readonly bulk: Record<string, number> = {};
  private refuseUntil = 0;
  /** After this many _bulk answers of 200, further _bulk connections are dropped until pass(). */
  private holdAfter = Infinity;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly upstreamPort: number,
  ) {}

  static async start(upstreamPort: number): Promise<RefusingProxy> {
    let self: RefusingProxy | undefined;
    const server = createServer((req, res) => self!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new RefusingProxy(server, (server.address() as AddressInfo).port, upstreamPort);
    return self;
  }

  /** Every _bulk is answered 429 for the next `ms` milliseconds. */
  refuseBulkFor(ms: number): void {
    this.refuseUntil = Date.now() + ms;
  }

  /** After `k` bulks answered 200 (counted from the start), drops every further _bulk until pass(). */
  dropBulkAfter(k: number): void {
    this.holdAfter = k;
  }

  /** Passes every _bulk again. */
  pass(): void {
    this.holdAfter = Infinity;
  }

  private count(status: string): void {
    this.bulk[status] = (this.bulk[status] ?? 0) + 1;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const isBulk = (req.url ?? '').split('?')[0]!.endsWith('/_bulk');
    if (isBulk && Date.now() < this.refuseUntil) {
      req.resume();
      req.once('end', () => {
        this.count('429');
        const body = JSON.stringify({
          error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (test proxy)' },
          status: 429,
        });
        res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    if (isBulk && (this.bulk['200'] ?? 0) >= this.holdAfter) {
      this.count('dropped');
      req.resume();
      res.socket?.destroy();
      return;
    }
    const up = request(
      { host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        if (isBulk) this.count(String(r.statusCode));
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.once('error', () => {
      if (isBulk) this.count('dropped');
      res.socket?.destroy();
    });
    req.pipe(up);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
