// How the collector tells errors apart: by the stable `code` and `fatal` every error class of ours carries, never by
// `err.name` (a class rename, a bundler or a second copy of a module would silently change the answer).

/** Carried by every error class of ours; the codes are listed in the README ("Error codes"). */
export interface CodedError {
  /** Stable, machine-readable: `DI_REFUSED`, `FORWARD_AUTH`, `STATE_INVALID`, … */
  readonly code: string;
  /** Retrying cannot fix it: a stream stops and says why (a configuration or a state file to fix). */
  readonly fatal: boolean;
}

/** The `code` of an error (ours, Node's or undici's), if it has a string one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error of ours that retrying cannot fix. */
export function isFatal(err: unknown): boolean {
  return (err as Partial<CodedError> | null | undefined)?.fatal === true;
}

/** The rejection of an aborted operation: a DOM `AbortError` (AbortController.abort()) or Node's `ABORT_ERR`. */
export function isAbortError(err: unknown): boolean {
  if (err instanceof DOMException) return err.code === DOMException.ABORT_ERR;
  return errorCode(err) === 'ABORT_ERR';
}
