// GET of a JSON document from Fluent Bit's built-in HTTP server (--fluent-bit-http): its uptime (uptime.ts) and its
// per-input record counters (records.ts).
import { request } from 'undici';
import { JumpCloudError } from '../../errors.js';
import type { Clock } from '../../types.js';

export interface FluentBitHttpTarget {
  readonly host: string;
  readonly port: number;
}

/** Fluent Bit's HTTP server could not be asked, or answered something else than expected. */
export class FluentBitHttpError extends JumpCloudError {
  static override readonly code: string = 'FLUENT_BIT_HTTP';
}

export function fluentBitUrl(target: FluentBitHttpTarget, path: string): string {
  return `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`;
}

/** The parsed JSON body of a 200 answer at `url`, and the clock's time when it arrived. */
export async function getFluentBitJson(
  url: string,
  timeoutMs: number,
  clock: Clock,
): Promise<{ readonly at: number; readonly body: unknown; readonly text: string }> {
  let text: string;
  try {
    const res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    text = await res.body.text();
    if (res.statusCode !== 200) throw new FluentBitHttpError(`${url} answered HTTP ${res.statusCode}`);
  } catch (err) {
    if (err instanceof FluentBitHttpError) throw err;
    throw new FluentBitHttpError(`cannot reach Fluent Bit's HTTP server at ${url}: ${(err as Error).message}`);
  }
  const at = clock.now();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { at, body, text };
}
