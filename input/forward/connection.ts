// One live socket to Fluent Bit, turned into whole msgpack messages: awaited one by one during the
// handshake, then pushed to a handler (acks) once the connection carries data.
import type { Socket } from 'node:net';
import { ClockTimer } from '../clock.js';
import type { Clock } from '../types.js';
import { ForwardConnectionError } from './errors.js';
import { MsgpackScanError, MsgpackStreamReader } from './msgpack-scan.js';

/** The server closed the connection while we waited for a message. */
export class ConnectionClosedError extends ForwardConnectionError {
  static override readonly code: string = 'FORWARD_CONNECTION_CLOSED';
}

export class ForwardConnection {
  private readonly reader = new MsgpackStreamReader();
  private handler: ((msg: Buffer) => void) | undefined;
  private readonly queued: Buffer[] = [];
  private waiter: { resolve(b: Buffer): void; reject(e: Error): void } | undefined;
  private closeError: Error | undefined;
  private isClosed = false;
  /** Resolves once the socket is gone, with the error that ended it (undefined: a clean close by the peer). */
  readonly closed: Promise<Error | undefined>;

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
    private readonly clock: Clock,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        const err = this.closeError ?? new ConnectionClosedError(`Fluent Bit at ${where} closed the connection`);
        this.waiter?.reject(err);
        this.waiter = undefined;
        resolve(this.closeError);
      });
    });
    socket.on('error', (err) => {
      this.closeError ??= new ForwardConnectionError(`connection to ${where} failed: ${err.message}`);
    });
    socket.on('data', (data: Buffer) => this.onData(data));
  }

  get alive(): boolean {
    return !this.isClosed && !this.socket.destroyed;
  }

  private onData(data: Buffer): void {
    this.reader.push(data);
    for (;;) {
      let msg: Buffer | undefined;
      try {
        msg = this.reader.next();
      } catch (err) {
        const detail = err instanceof MsgpackScanError ? err.message : String(err);
        this.destroy(
          new ForwardConnectionError(
            `Fluent Bit at ${this.where} sent bytes that are not msgpack (${detail}): is this a forward input?`,
          ),
        );
        return;
      }
      if (!msg) return;
      if (this.handler) {
        this.handler(msg);
      } else if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(Buffer.from(msg));
      } else {
        this.queued.push(Buffer.from(msg));
      }
      if (this.isClosed || this.socket.destroyed) return;
    }
  }

  /** The next whole message, or a rejection after `timeoutMs` (connection then destroyed) or on close. */
  next(timeoutMs: number, what: string): Promise<Buffer> {
    const q = this.queued.shift();
    if (q) return Promise.resolve(q);
    if (this.isClosed)
      return Promise.reject(
        this.closeError ?? new ConnectionClosedError(`Fluent Bit at ${this.where} closed the connection`),
      );
    return new Promise((resolve, reject) => {
      const timer = new ClockTimer(this.clock);
      timer.arm(timeoutMs, () => {
        this.waiter = undefined;
        const err = new ForwardConnectionError(`no ${what} from ${this.where} within ${timeoutMs} ms`);
        reject(err);
        this.destroy(err);
      });
      this.waiter = {
        resolve: (b) => {
          timer.clear();
          resolve(b);
        },
        reject: (e) => {
          timer.clear();
          reject(e);
        },
      };
    });
  }

  /** From now on every message goes to `handler` (as a view valid only during the call). */
  onMessage(handler: (msg: Buffer) => void): void {
    this.handler = handler;
    for (const m of this.queued.splice(0)) handler(m);
  }

  write(frame: Buffer): void {
    if (this.alive) this.socket.write(frame);
  }

  destroy(err?: Error): void {
    if (err) this.closeError ??= err;
    this.socket.destroy();
  }
}
