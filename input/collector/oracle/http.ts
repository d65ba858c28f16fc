// GET of a JSON document from Fluent Bit's built-in HTTP server (--fluent-bit-http): its uptime (uptime.ts) and its
// per-input record counters (records.ts).
import { request } from 'undici';
import { JumpCloudError, errorCode } from '../../errors.js';
import type { Clock } from '../../types.js';

export interface FluentBitHttpTarget {
  readonly host: string;
  readonly port: number;
}

/** Fluent Bit's HTTP server could not be asked, or answered something else than expected. */
export class FluentBitHttpError extends JumpCloudError {
  static override readonly code: string = 'FLUENT_BIT_HTTP';
  /** Nothing answered (refused, timed out): not an answer of something else. */
  readonly unreachable: boolean = false;
}

class FluentBitUnreachableError extends FluentBitHttpError {
  override readonly unreachable: boolean = true;
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
    const message = `cannot reach Fluent Bit's HTTP server at ${url}: ${(err as Error).message}`;
    throw refused(err) ? new FluentBitUnreachableError(message) : new FluentBitHttpError(message);
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

/** Nothing listens there (as opposed to something that listens and does not answer HTTP). */
function refused(err: unknown): boolean {
  const codes = [errorCode(err), errorCode((err as { cause?: unknown } | null)?.cause)];
  return codes.some((c) => ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(c ?? ''));
}
