// The "Fluent Bit" options: the forward target and tag, ack settling and the delivery timeout, TLS, and the
// shared-key handshake's credentials.
import { isIPv4 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { CollectorConfig, ForwardTarget } from '../types.js';
import type { Settings } from './sources.js';
import { ConfigError, invalid } from './spec.js';
import { FORWARD_HINT, checkReadable, parseForward, toBool, toDuration, toText } from './values.js';

export interface FluentBitSettings extends Pick<
  CollectorConfig,
  'forward' | 'tag' | 'ackSettleMs' | 'fluentBitHttp' | 'fluentBitInput' | 'tls' | 'sharedKey' | 'username' | 'password'
> {
  /** 0: wait forever. */
  readonly deliveryTimeoutMs: number;
}

export function fluentBitSettings(s: Settings): FluentBitSettings {
  const fwdRaw = s.req('forward');
  let forward: ForwardTarget;
  try {
    forward = parseForward(toText(s.opt('forward'), fwdRaw));
  } catch (err) {
    throw invalid(s.opt('forward'), fwdRaw.source, `${(err as Error).message}; ${FORWARD_HINT}`);
  }
  if (forward.kind === 'unix') forward = { kind: 'unix', path: resolvePath(s.cwd, forward.path) };
  const tagRaw = s.req('tag');
  const tag = toText(s.opt('tag'), tagRaw).trim();
  const badPlaceholder = /\{(?!service\}|org\})[^}]*\}?/.exec(tag);
  if (tag === '' || /\s/.test(tag) || badPlaceholder) {
    throw invalid(
      s.opt('tag'),
      tagRaw.source,
      `"${tag}" is not a tag template: expected text without spaces using {service} and {org}, e.g. ` +
        `jumpcloud.{service}`,
    );
  }
  const tls = tlsSettings(s);
  const { sharedKey, username, password } = handshake(s);
  const ackSettleMs = toDuration(s.opt('ack-settle'), s.req('ack-settle'));
  if (ackSettleMs > 60_000)
    throw invalid(
      s.opt('ack-settle'),
      s.req('ack-settle').source,
      'must be at most 1m: events wait this long after their ack before they count as delivered',
    );
  const deliveryTimeoutMs = toDuration(s.opt('delivery-timeout'), s.req('delivery-timeout'));
  const fluentBitHttp = httpServer(s, forward);
  const fluentBitInput = s.text('fluent-bit-input')!.trim();
  if (fluentBitInput === '' || /\s/.test(fluentBitInput))
    throw invalid(
      s.opt('fluent-bit-input'),
      s.req('fluent-bit-input').source,
      `"${fluentBitInput}" is not an input name: expected the Alias of the forward input (no spaces), e.g. ` +
        `jumpcloud_forward`,
    );
  return {
    forward,
    tag,
    ackSettleMs,
    ...(fluentBitHttp ? { fluentBitHttp } : {}),
    fluentBitInput,
    deliveryTimeoutMs,
    tls,
    sharedKey,
    username,
    password,
  };
}

/** The shipped pipeline's addresses: its forward input's port, and its HTTP server (conf/jumpcloud.env). */
export const SHIPPED_FORWARD_PORT = 24224;
export const SHIPPED_HTTP = { host: '127.0.0.1', port: 2020 } as const;

/**
 * --fluent-bit-http: Fluent Bit's own HTTP server (TCP, with a port), whose uptime and input counter tell a restart
 * what was stored. `auto` (the default) tries the shipped pipeline's 127.0.0.1:2020 only when --forward is the
 * shipped pipeline's port on loopback: its answers are trusted to describe the Fluent Bit behind --forward, and a
 * host runs one shipped pipeline on that pair (a second one has its own ports, and names its HTTP server). The run
 * uses it only if a Fluent Bit there lists --fluent-bit-input (oracle/probe.ts).
 */
function httpServer(s: Settings, forward: ForwardTarget): CollectorConfig['fluentBitHttp'] {
  const raw = s.get('fluent-bit-http');
  if (!raw) return undefined;
  const text = toText(s.opt('fluent-bit-http'), raw).trim();
  if (text === 'off') return undefined;
  if (text === 'auto') return shippedPair(forward) ? { ...SHIPPED_HTTP, auto: true } : undefined;
  try {
    if (text.startsWith('unix:')) throw new Error("Fluent Bit's HTTP server listens on TCP only");
    if (!/:\d+$/.test(text)) throw new Error('names no port');
    const t = parseForward(text) as { host: string; port: number };
    return { host: t.host, port: t.port };
  } catch (err) {
    throw invalid(
      s.opt('fluent-bit-http'),
      raw.source,
      `"${text}": ${(err as Error).message}; expected HOST:PORT of http_listen and http_port in Fluent Bit's ` +
        `[SERVICE] section (e.g. 127.0.0.1:2020), auto or off`,
    );
  }
}

/** --forward is the shipped forward input's port on this host's loopback. */
function shippedPair(forward: ForwardTarget): boolean {
  if (forward.kind !== 'tcp' || forward.port !== SHIPPED_FORWARD_PORT) return false;
  const h = forward.host.toLowerCase();
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

/** TLS files only with --tls, readable, a client certificate only with its key. */
function tlsSettings(s: Settings): CollectorConfig['tls'] {
  const tlsOn = toBool(s.opt('tls'), s.req('tls'));
  const tlsVerify = toBool(s.opt('tls-verify'), s.req('tls-verify'));
  const files: Record<string, string | undefined> = {};
  for (const name of ['tls-ca-file', 'tls-cert-file', 'tls-key-file']) {
    const r = s.get(name);
    if (!r) continue;
    if (!tlsOn) throw invalid(s.opt(name), r.source, 'is set but --tls is off: add --tls (env FLUENT_BIT_TLS=true)');
    files[name] = checkReadable(s.opt(name), r, s.cwd);
  }
  if (files['tls-cert-file'] !== undefined && files['tls-key-file'] === undefined) {
    throw new ConfigError('--tls-cert-file needs --tls-key-file (the client private key)', 'tls-key-file');
  }
  if (files['tls-key-file'] !== undefined && files['tls-cert-file'] === undefined) {
    throw new ConfigError('--tls-key-file needs --tls-cert-file (the client certificate)', 'tls-cert-file');
  }
  const servername = s.text('tls-servername');
  if (!tlsVerify && tlsOn) s.warnings.push('--no-tls-verify: the Fluent Bit server certificate is not checked');
  if (!tlsOn) return undefined;
  return {
    verify: tlsVerify,
    ...(files['tls-ca-file'] ? { caFile: files['tls-ca-file'] } : {}),
    ...(files['tls-cert-file'] ? { certFile: files['tls-cert-file'] } : {}),
    ...(files['tls-key-file'] ? { keyFile: files['tls-key-file'] } : {}),
    ...(servername ? { servername } : {}),
  };
}

/** A user needs a password and the shared key: Fluent Bit checks users only inside the shared-key handshake. */
function handshake(s: Settings): {
  sharedKey: string | undefined;
  username: string | undefined;
  password: string | undefined;
} {
  const sharedKey = s.text('shared-key');
  const username = s.text('username');
  const password = s.text('password');
  if (username !== undefined && password === undefined)
    throw new ConfigError(
      '--username needs --password (env FLUENT_BIT_PASSWORD or FLUENT_BIT_PASSWORD_FILE)',
      'password',
    );
  if (password !== undefined && username === undefined)
    throw new ConfigError('--password needs --username (env FLUENT_BIT_USERNAME)', 'username');
  if (username !== undefined && sharedKey === undefined) {
    throw new ConfigError(
      '--username needs --shared-key: Fluent Bit checks users only inside the shared-key handshake',
      'shared-key',
    );
  }
  return { sharedKey, username, password };
}
