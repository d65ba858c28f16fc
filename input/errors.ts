// How the collector tells errors apart: by the stable `code` every error class of ours carries, and its `fatal` flag,
// never by `err.name` (a class rename or a bundler would silently change the answer). `instanceof` on our classes
// checks exactly that code (undici's pattern: a brand under a Symbol.for key, read by Symbol.hasInstance), so it
// holds across two copies of a module, and narrows types where a plain code comparison would not.

/** Carried by every error class of ours; the codes are listed in the README ("Error codes"). */
export interface CodedError {
  /** Stable, machine-readable: `DI_REFUSED`, `FORWARD_AUTH`, `STATE_INVALID`, … */
  readonly code: string;
  /** Retrying cannot fix it: a stream stops and says why (a configuration or a state file to fix). */
  readonly fatal: boolean;
}

/**
 * The codes of an error's class and of every class it extends, most specific first (a global symbol: one per realm).
 */
const CODES = Symbol.for('fluent-bit-jumpcloud.error-codes');

type ErrorClass = (abstract new (...args: never[]) => unknown) & { readonly code?: string };

/**
 * Base of every error class of ours. A class declares its stable code as `static override readonly code`; an
 * instance carries it as `code`, with the codes of the classes it extends (what `instanceof` checks).
 */
export class JumpCloudError extends Error implements CodedError {
  static readonly code: string = 'JUMPCLOUD_ERROR';
  readonly code: string;
  readonly fatal: boolean = false;

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    const codes: string[] = [];
    for (let c = new.target as ErrorClass | null; c && c !== Error; c = Object.getPrototypeOf(c) as ErrorClass | null) {
      if (Object.hasOwn(c, 'code') && c.code !== undefined) codes.push(c.code);
    }
    this.code = codes[0]!;
    this.name = new.target.name;
    Object.defineProperty(this, CODES, { value: Object.freeze(codes) });
  }

  /** `err instanceof X`: err carries X's code (whichever copy of the module made it). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const codes = (value as { [CODES]?: unknown } | null | undefined)?.[CODES];
    return Array.isArray(codes) && codes.includes((this as ErrorClass).code);
  }
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
