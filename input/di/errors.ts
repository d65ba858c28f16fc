// Typed errors of the DI client. Messages say what happened and what to fix; they never carry a secret.
// Each class has a stable `code` and says whether it is `fatal` (../errors.ts).
import { JumpCloudError } from '../errors.js';

/** Base of every error the DI client throws. */
export class DiError extends JumpCloudError {
  static override readonly code: string = 'DI_ERROR';
}

/**
 * The API refused the query for a reason retrying cannot fix (400, 401, 402, 403, or a rejected OAuth client).
 * The collector stops that org/service and shows `message`, which names the setting to change.
 */
export class DiFatalError extends DiError {
  static override readonly code: string = 'DI_REFUSED';
  override readonly fatal: boolean = true;
  constructor(
    message: string,
    /** HTTP status of the refusal; undefined when the client refused before calling (e.g. a missing org id). */
    readonly status?: number,
    /** The API's own `message`, when it sent one. */
    readonly apiMessage?: string,
  ) {
    super(message);
  }
}

/** The query itself is wrong (start not before end, bad bound): a bug in the caller, refused before any call. */
export class DiQueryError extends DiError {
  static override readonly code: string = 'DI_BAD_QUERY';
  override readonly fatal: boolean = true;
}

/** A fault worth retrying: 429/5xx, connection reset, timeout, truncated or unparsable page. */
export class DiTransientError extends DiError {
  static override readonly code: string = 'DI_TRANSIENT';
  constructor(
    message: string,
    /** Short machine-friendly reason, used as a metric label: `http_503`, `timeout`, `reset`, `bad_page`, … */
    readonly reason: string,
    readonly status?: number,
    /** Delay the server asked for (Retry-After), in ms. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A 200 answer whose body is not a complete JSON array of events with string `id` and `timestamp`. Retried whole. */
export class DiBadPageError extends DiTransientError {
  static override readonly code: string = 'DI_BAD_PAGE';
  constructor(
    message: string,
    /** Byte offset (UTF-16 index) where the body stopped making sense, when known. */
    readonly offset?: number,
  ) {
    super(message, 'bad_page');
  }
}

/** A transient fault outlived the retry limit (only when a finite `maxAttempts` was configured). */
export class DiRetriesExhaustedError extends DiError {
  static override readonly code: string = 'DI_RETRIES_EXHAUSTED';
  constructor(
    readonly attempts: number,
    readonly lastError: DiTransientError,
  ) {
    super(`gave up after ${attempts} attempts; last fault: ${lastError.message}`, { cause: lastError });
  }
}

/** A response body shorter or longer than its Content-Length; always wrapped in a DiTransientError (`truncated`). */
export class DiBodyLengthError extends DiError {
  static override readonly code: string = 'DI_BODY_LENGTH';
}
