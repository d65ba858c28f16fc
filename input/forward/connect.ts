// Opens the byte stream to Fluent Bit: TCP or unix socket, optionally wrapped in TLS.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ClockTimer } from '../clock.js';
import type { Clock, ForwardTarget } from '../types.js';
import { ForwardConfigError, ForwardConnectionError } from './errors.js';

export interface ForwardTlsOptions {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Verify the server certificate (default true). */
  readonly verify?: boolean;
  readonly servername?: string;
}

/** TLS material read once at startup, so a missing file is a config error at once, not a retry loop. */
export interface LoadedTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly verify: boolean;
  readonly servername?: string;
}

function readTlsFile(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ForwardConfigError(`cannot read the TLS ${what} file "${path}": ${(err as Error).message}`);
  }
}

export function loadTls(opts: ForwardTlsOptions): LoadedTls {
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) {
    throw new ForwardConfigError('TLS client certificate needs both certFile and keyFile');
  }
  return {
    ca: readTlsFile(opts.caFile, 'CA'),
    cert: readTlsFile(opts.certFile, 'certificate'),
    key: readTlsFile(opts.keyFile, 'key'),
    verify: opts.verify ?? true,
    servername: opts.servername,
  };
}

export function describeTarget(target: ForwardTarget): string {
  return target.kind === 'tcp' ? `${target.host}:${target.port}` : `unix:${target.path}`;
}

/** getaddrinfo's answers for a name that does not resolve (no such host, or no DNS answer right now). */
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);

export function isNameResolutionError(err: unknown): boolean {
  return UNRESOLVED.has(String((err as NodeJS.ErrnoException | undefined)?.code));
}

/** What to say when the host of the forward target does not resolve: a name problem, not a Fluent Bit one. */
export function unresolvedMessage(host: string, code: string | undefined): string {
  return (
    `cannot resolve the Fluent Bit host "${host}" (${code ?? 'DNS'}): the name does not resolve here, so no ` +
    `connection was tried; ` +
    'check the host name in --forward (env FLUENT_BIT_FORWARD), e.g. --forward 127.0.0.1:24224'
  );
}

/** Resolves with a connected (and TLS-established) socket, or rejects with ForwardConnectionError. */
export function openSocket(
  target: ForwardTarget,
  tlsOpts: LoadedTls | undefined,
  timeoutMs: number,
  clock: Clock,
  signal?: AbortSignal,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ForwardConnectionError('connect aborted: the client is closing'));
    let socket: net.Socket;
    const where = describeTarget(target);
    const conn = target.kind === 'tcp' ? { host: target.host, port: target.port } : { path: target.path };
    if (tlsOpts) {
      const servername =
        tlsOpts.servername ?? (target.kind === 'tcp' && net.isIP(target.host) === 0 ? target.host : undefined);
      socket = tls.connect({
        ...conn,
        ca: tlsOpts.ca,
        cert: tlsOpts.cert,
        key: tlsOpts.key,
        rejectUnauthorized: tlsOpts.verify,
        ...(servername !== undefined ? { servername } : {}),
      });
    } else {
      socket = net.connect(conn);
    }
    const timer = new ClockTimer(clock);
    const onAbort = (): void => {
      timer.clear();
      socket.destroy();
      reject(new ForwardConnectionError('connect aborted: the client is closing'));
    };
    timer.arm(timeoutMs, () => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(new ForwardConnectionError(`connecting to ${where} timed out after ${timeoutMs} ms`));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    const onError = (err: Error): void => {
      timer.clear();
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      const tlsHint =
        tlsOpts && /certificate|self.signed|unable to verify|SSL|TLS/i.test(err.message)
          ? ' (TLS: check caFile/servername, or disable verification only for testing)'
          : '';
      if (target.kind === 'tcp' && isNameResolutionError(err)) {
        reject(
          new ForwardConnectionError(unresolvedMessage(target.host, (err as NodeJS.ErrnoException).code), 'unresolved'),
        );
        return;
      }
      reject(
        new ForwardConnectionError(`cannot connect to Fluent Bit forward input at ${where}: ${err.message}${tlsHint}`),
      );
    };
    socket.once('error', onError);
    socket.once(tlsOpts ? 'secureConnect' : 'connect', () => {
      timer.clear();
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}
