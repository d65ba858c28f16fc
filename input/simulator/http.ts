// HTTP plumbing of the simulator: error answers, header reading, and a responder that counts every answer by
// route and status (sim.stats.requests).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer with this status and `{"message": …}` body, as the API gives its errors. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A comma-separated header (repeated headers arrive joined) as its non-empty values. */
export function headerList(req: IncomingMessage, name: string): string[] | undefined {
  const raw = header(req, name);
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

export class Responder {
  constructor(private readonly requests: Record<string, Record<string, number>>) {}

  /** Counts an answer of `route` (status or what happened instead: reset, timeout, truncated). */
  count(route: string, status: number | string): void {
    const r = (this.requests[route] ??= {});
    r[String(status)] = (r[String(status)] ?? 0) + 1;
  }

  send(res: ServerResponse, route: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
    // A Buffer goes as is (JSON.stringify would spell out its bytes as an array).
    const text = Buffer.isBuffer(body) ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const bytes = text === undefined ? (body as Buffer) : Buffer.from(text, 'utf8');
    this.count(route, status);
    const head = { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, ...headers };
    res.writeHead(status, head);
    res.end(bytes);
  }
}
