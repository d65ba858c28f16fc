// Turns what went wrong on the wire (a status, a network error) into a retryable DiTransientError with a
// short reason label for metrics and logs.
import type { IncomingHttpHeaders } from 'node:http';
import { DiTransientError } from './errors.js';
import { parseRetryAfter } from './retry.js';

/** A retryable HTTP status: 429, 408, 425 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status === 425 || status >= 500;
}

/**
 * A transient fault for a retryable status; Retry-After is honoured for 429 and 503 (and any other status sending it).
 */
export function statusFault(
  status: number,
  headers: IncomingHttpHeaders,
  nowMs: number,
  what: string,
): DiTransientError {
  const retryAfterMs = parseRetryAfter(headers['retry-after'], nowMs);
  const hint = retryAfterMs !== undefined ? ` (Retry-After ${Math.round(retryAfterMs / 1000)} s)` : '';
  return new DiTransientError(`${what}: HTTP ${status}${hint}`, `http_${status}`, status, retryAfterMs);
}

const REASONS: Record<string, string> = {
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'truncated',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'truncated',
  DI_BODY_LENGTH: 'truncated', // ours (readBody), the same fault as undici's check
};

/** A transient fault for a failed request (reset, refused, timeout, truncated body, DNS). */
export function networkFault(err: unknown, what: string): DiTransientError {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const reason = (code && REASONS[code]) ?? 'network';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const hint =
    reason === 'dns' ? ' (check the API URL / --region)' : reason === 'refused' ? ' (is the API URL right?)' : '';
  return new DiTransientError(`${what} failed: ${code ? `${code} ` : ''}${msg}${hint}`, reason, undefined, undefined, {
    cause: err,
  });
}
