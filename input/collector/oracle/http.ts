// GET of a JSON document from Fluent Bit's built-in HTTP server (--fluent-bit-http): its uptime
// (fluent-bit-uptime.ts) and its per-input record counters (fluent-bit-records.ts).
import { request } from 'undici';

export interface FluentBitHttpTarget {
  readonly host: string;
  readonly port: number;
}

/** Fluent Bit's HTTP server could not be asked, or answered something else than expected. Stable code. */
export class FluentBitHttpError extends Error {
  override readonly name = 'FluentBitHttpError';
  readonly code = 'FLUENT_BIT_HTTP';
}

export function fluentBitUrl(target: FluentBitHttpTarget, path: string): string {
  return `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`;
}

/** The parsed JSON body of a 200 answer at `url`, and Date.now() when it arrived. */
export async function getFluentBitJson(url: string, timeoutMs: number): Promise<{ readonly at: number; readonly body: unknown; readonly text: string }> {
  let text: string;
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    text = await res.body.text();
    if (res.statusCode !== 200) throw new FluentBitHttpError(`${url} answered HTTP ${res.statusCode}`);
  } catch (err) {
    if (err instanceof FluentBitHttpError) throw err;
    throw new FluentBitHttpError(`cannot reach Fluent Bit's HTTP server at ${url}: ${(err as Error).message}`);
  }
  const at = Date.now();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { at, body, text };
}
