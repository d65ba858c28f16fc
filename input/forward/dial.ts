// One connection attempt: open the socket (TCP or unix, TLS when configured) and, with a shared key, run the
// HELO/PING/PONG handshake exactly as in_forward checks it.
import type { Clock, ForwardTarget, Logger } from '../types.js';
import { openSocket, type LoadedTls } from './connect.js';
import { ConnectionClosedError, ForwardConnection } from './connection.js';
import { ForwardConnectionError } from './errors.js';
import { buildPing, checkPong, parseHelo, type HandshakeCredentials } from './handshake.js';

/** Closed after PING without PONG: Fluent Bit's answer to a shared_key mismatch (or a pause at that instant). */
export class NoPongError extends ForwardConnectionError {
  static override readonly code: string = 'FORWARD_NO_PONG';
}

export interface DialOptions {
  readonly target: ForwardTarget;
  readonly where: string;
  readonly tls: LoadedTls | undefined;
  readonly cred: HandshakeCredentials | undefined;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** The client's clock: the connect and handshake timeouts run on it. */
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * A connection ready for frames. `opened` sees it as soon as the socket is open (the client destroys it on close(),
 * so that a HELO/PONG wait ends at once). A failed handshake destroys it and throws.
 */
export async function dial(
  o: DialOptions,
  signal: AbortSignal,
  opened: (conn: ForwardConnection) => void,
): Promise<ForwardConnection> {
  const socket = await openSocket(o.target, o.tls, o.connectTimeoutMs, o.clock, signal);
  const conn = new ForwardConnection(socket, o.where, o.clock);
  opened(conn);
  try {
    if (o.cred) await handshake(conn, o.cred, o);
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return conn;
}

async function handshake(conn: ForwardConnection, cred: HandshakeCredentials, o: DialOptions): Promise<void> {
  let heloBytes: Buffer;
  try {
    heloBytes = await conn.next(o.handshakeTimeoutMs, 'HELO');
  } catch (err) {
    if (err instanceof ConnectionClosedError) throw err;
    throw new ForwardConnectionError(
      `${(err as Error).message}: a shared key is configured, but Fluent Bit sent no HELO — is shared_key set on ` +
        `its forward input?`,
    );
  }
  const helo = parseHelo(heloBytes);
  const { frame, salt } = buildPing(helo, cred);
  conn.write(frame);
  let pong: Buffer;
  try {
    pong = await conn.next(o.handshakeTimeoutMs, 'PONG');
  } catch (err) {
    if (err instanceof ConnectionClosedError)
      throw new NoPongError(`Fluent Bit at ${o.where} closed the connection after PING without PONG`);
    throw err;
  }
  const { serverHostname } = checkPong(pong, helo, salt, cred);
  o.log.debug({ target: o.where, serverHostname, username: cred.username }, 'forward: handshake done');
}
