// When to connect again: exponential backoff between failed attempts, reset by a connection that got acks, and the
// two failures that retrying cannot fix (an auth refusal; PING answered by a close, twice in a row).
import type { Clock, ForwardHooks, Logger } from '../types.js';
import { backoffDelay, type Backoff } from '../backoff.js';
import { NoPongError } from './dial.js';
import { ForwardAuthError, ForwardConnectionError } from './errors.js';

export class Reconnects {
  private attempt = 0;
  private noPongStrikes = 0;
  /** Why the last connection attempt or connection ended (for logs and the delivery timeout's message). */
  lastError: string | undefined;
  /** The last attempt failed because the host name did not resolve (told to onReconnect as reason 'unresolved'). */
  private unresolved = false;

  constructor(
    private readonly o: {
      readonly backoff: Backoff;
      readonly random: () => number;
      readonly clock: Clock;
      readonly hooks: ForwardHooks;
      readonly log: Logger;
      readonly where: string;
    },
  ) {}

  /** The last attempt or connection failed: the next one waits. */
  get waiting(): boolean {
    return this.attempt > 0;
  }

  /** Before an attempt: after a failure, waits the backoff delay (ends early when `signal` aborts). */
  async beforeAttempt(signal: AbortSignal, unackedChunks: number): Promise<void> {
    if (this.attempt === 0) return;
    const { attempt, lastError: error } = this;
    const delayMs = backoffDelay(attempt - 1, this.o.backoff, this.o.random);
    this.o.hooks.onReconnect?.({
      attempt,
      delayMs,
      error,
      ...(this.unresolved ? { reason: 'unresolved' as const } : {}),
    });
    this.o.log.warn(
      { target: this.o.where, attempt, delayMs, error, unackedChunks },
      'forward: reconnecting to Fluent Bit',
    );
    await this.o.clock.sleep(delayMs, signal);
  }

  /** Connected (and handshaken). */
  connected(): void {
    this.noPongStrikes = 0;
  }

  /** An attempt failed; returns the fatal error to give up with, or undefined to try again. */
  failed(err: unknown): ForwardAuthError | undefined {
    if (err instanceof ForwardAuthError) return err;
    if (err instanceof NoPongError && ++this.noPongStrikes >= 2) {
      return new ForwardAuthError(
        `Fluent Bit at ${this.o.where} closed the connection after our PING without answering PONG, ` +
          `${this.noPongStrikes} times in a row: ` +
          'its forward input rejects our shared key (it logs "shared_key mismatch"). Make the collector\'s shared ' +
          'key equal to shared_key of the [INPUT] forward section.',
        'shared_key',
      );
    }
    this.lastError = (err as Error).message;
    this.unresolved = err instanceof ForwardConnectionError && err.reason === 'unresolved';
    this.attempt++;
    return undefined;
  }

  /**
   * A connection ended. One that got acks was healthy: reconnect after the base delay; one that got none backs off
   * further.
   */
  closed(result: { readonly progressed: boolean; readonly error?: string }): void {
    this.lastError = result.error;
    this.unresolved = false;
    this.attempt = result.progressed ? 1 : this.attempt + 1;
  }
}
