// The shared-key handshake of Fluent Bit's forward input: HELO → PING → PONG.
// HELO's nonce and auth are 16 random bytes inside msgpack str: they are decoded as raw bytes (never as UTF-8
// text, which would corrupt them and make every digest wrong).
import { Decoder, encode } from '@msgpack/msgpack';
import { createHash, randomBytes } from 'node:crypto';
import { ForwardAuthError, ForwardConnectionError } from './errors.js';

export interface Helo {
  readonly nonce: Buffer;
  readonly auth: Buffer;
}

export interface HandshakeCredentials {
  readonly sharedKey: string;
  readonly username?: string;
  readonly password?: string;
  /** Our hostname as sent in PING. */
  readonly hostname: string;
}

const rawDecoder = new Decoder({ rawStrings: true });

function asBuffer(v: unknown): Buffer | undefined {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined;
}

/** Is this decoded-with-anything message a HELO? (used to detect a server that wants a key we do not have) */
export function isHelo(bytes: Uint8Array): boolean {
  try {
    const msg = rawDecoder.decode(bytes);
    return Array.isArray(msg) && asBuffer(msg[0])?.toString('latin1') === 'HELO';
  } catch {
    return false;
  }
}

export function parseHelo(bytes: Uint8Array): Helo {
  const msg = rawDecoder.decode(bytes);
  if (
    !Array.isArray(msg) ||
    asBuffer(msg[0])?.toString('latin1') !== 'HELO' ||
    typeof msg[1] !== 'object' ||
    msg[1] === null
  ) {
    throw new ForwardConnectionError(
      'expected HELO as the first message of a shared-key forward connection, got something else',
    );
  }
  const opts = msg[1] as Record<string, unknown>;
  const nonce = asBuffer(opts['nonce']);
  // Fluent Bit always sends `auth`; fluentd omits it without user auth: an empty salt then.
  const auth = asBuffer(opts['auth']) ?? Buffer.alloc(0);
  if (!nonce) throw new ForwardConnectionError('HELO carries no nonce');
  return { nonce, auth };
}

function sha512Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The PING to send (one buffer: Fluent Bit reads it in one go) and the salt to verify PONG with. */
export function buildPing(helo: Helo, cred: HandshakeCredentials): { frame: Buffer; salt: string } {
  const salt = randomBytes(16).toString('hex');
  const digest = sha512Hex(salt, cred.hostname, helo.nonce, cred.sharedKey);
  const username = cred.username ?? '';
  const passwordDigest = cred.username !== undefined ? sha512Hex(helo.auth, username, cred.password ?? '') : '';
  // Every element is a JS string, so every element is encoded as msgpack str (the salt too).
  const frame = Buffer.from(encode(['PING', cred.hostname, salt, digest, username, passwordDigest]));
  return { frame, salt };
}

/** Checks PONG; throws ForwardAuthError on refusal or when the server cannot prove it knows the key. */
export function checkPong(
  bytes: Uint8Array,
  helo: Helo,
  salt: string,
  cred: HandshakeCredentials,
): { serverHostname: string } {
  const msg = rawDecoder.decode(bytes);
  if (!Array.isArray(msg) || asBuffer(msg[0])?.toString('latin1') !== 'PONG' || msg.length < 5) {
    throw new ForwardConnectionError('expected PONG after PING, got something else');
  }
  const ok = msg[1] === true;
  const reason = asBuffer(msg[2])?.toString('utf8') ?? '';
  if (!ok) {
    throw new ForwardAuthError(
      `Fluent Bit refused the forward handshake: "${reason}". ` +
        (/user|password/i.test(reason)
          ? 'The username/password do not match an entry of security.users on its forward input: fix the username ' +
            'and password given to the collector (or the users in Fluent Bit).'
          : "Check shared_key and security.users on its forward input against the collector's settings."),
      /user|password/i.test(reason) ? 'user' : 'shared_key',
    );
  }
  const serverHostname = asBuffer(msg[3])?.toString('utf8') ?? '';
  const digest = asBuffer(msg[4])?.toString('latin1') ?? '';
  const expected = sha512Hex(salt, asBuffer(msg[3]) ?? Buffer.alloc(0), helo.nonce, cred.sharedKey);
  if (digest !== expected) {
    throw new ForwardAuthError(
      `the forward server "${serverHostname}" answered PONG with a digest that does not match our shared key: it ` +
        `does not know the same shared_key (or is not Fluent Bit's forward input); fix shared_key on one side`,
      'server_digest',
    );
  }
  return { serverHostname };
}
