// Typed values of options: each parser takes the raw text (or list, or boolean) and its source, and names both
// in its error.
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { DurationError, parseDuration } from '../duration.js';
import type { ForwardTarget } from '../types.js';
import { errCode, invalid, type OptionSpec, type Source } from './spec.js';

export type RawValue = string | boolean | readonly string[];
export interface Raw {
  readonly value: RawValue;
  readonly source: Source;
  /** The value came out of a file named by a *_FILE setting. */
  readonly fromFile?: string;
}

/** Reads a secret from the file a *_FILE setting names; the content is trimmed and must not be empty. */
export function readSecretFile(opt: OptionSpec, path: string, src: Source, cwd: string): string {
  let text: string;
  try {
    text = readFileSync(resolvePath(cwd, path), 'utf8');
  } catch (err) {
    throw invalid(opt, src, `cannot read ${path}: ${errCode(err)}`);
  }
  const value = text.trim();
  if (value === '') throw invalid(opt, src, `${path} is empty`);
  return value;
}

export function toBool(opt: OptionSpec, raw: Raw): boolean {
  if (typeof raw.value === 'boolean') return raw.value;
  const v = String(raw.value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw invalid(opt, raw.source, `"${raw.value}" is not a boolean: expected true or false`);
}

export function toText(opt: OptionSpec, raw: Raw): string {
  if (typeof raw.value !== 'string') throw invalid(opt, raw.source, 'expected a single value');
  return raw.value;
}

export function toInt(opt: OptionSpec, raw: Raw): number {
  const text = toText(opt, raw).trim();
  // Group separators help with big numbers: 1_000_000 or 1,000,000.
  if (!/^\d{1,3}([_,]?\d{3})*$|^\d+$/.test(text)) {
    throw invalid(
      opt,
      raw.source,
      `"${text}" is not a whole number: expected an integer from ${opt.min} to ${opt.max}`,
    );
  }
  const n = Number(text.replace(/[_,]/g, ''));
  if (n < (opt.min ?? 0) || n > (opt.max ?? Number.MAX_SAFE_INTEGER)) {
    throw invalid(opt, raw.source, `${n} is out of range: expected ${opt.min} to ${opt.max}`);
  }
  return n;
}

export function toDuration(opt: OptionSpec, raw: Raw): number {
  try {
    return parseDuration(toText(opt, raw));
  } catch (err) {
    if (err instanceof DurationError) throw invalid(opt, raw.source, err.message);
    throw err;
  }
}

export function toList(opt: OptionSpec, raw: Raw): string[] {
  const parts = typeof raw.value === 'string' ? raw.value.split(',') : Array.isArray(raw.value) ? [...raw.value] : [];
  const items = [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
  for (const item of items) {
    // Service names are never whitelisted (the API grows them); only the shape is checked.
    if (!/^[A-Za-z0-9_.-]+$/.test(item)) {
      throw invalid(
        opt,
        raw.source,
        `"${item}" is not a valid name: expected letters, digits, _ . - separated by commas`,
      );
    }
  }
  return items;
}

export function toUrl(opt: OptionSpec, raw: Raw): string {
  const text = toText(opt, raw).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(opt, raw.source, `"${text}" is not a URL: expected http(s)://host[:port]/path`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(opt, raw.source, `"${text}" must use http or https`);
  }
  if (url.username || url.password)
    throw invalid(
      opt,
      raw.source,
      'credentials do not belong in the URL: use --api-key or the service account options',
    );
  if (url.search || url.hash) throw invalid(opt, raw.source, `"${text}" must not have a query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

export function parseForward(text: string): ForwardTarget {
  const s = text.trim();
  if (s.startsWith('unix:')) {
    const path = s.slice(5);
    if (path === '') throw new Error(`"${text}" names no socket: expected unix:/path/to/socket`);
    return { kind: 'unix', path };
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
    if (!isIPv6(host)) throw new Error(`"${host}" is not an IPv6 address`);
  } else {
    const colons = s.split(':').length - 1;
    if (colons > 1) throw new Error(`"${text}" looks like an IPv6 address: write it in brackets, e.g. [::1]:24224`);
    [host, portText] = colons === 1 ? (s.split(':') as [string, string]) : [s, undefined];
    if (
      host === '' ||
      !(
        isIP(host) === 4 ||
        /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)
      )
    ) {
      throw new Error(`"${host}" is not a host name or address`);
    }
  }
  let port = 24224;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) {
      throw new Error(`"${portText}" is not a port: expected 1 to 65535`);
    }
    port = Number(portText);
  }
  return { kind: 'tcp', host, port };
}

/** The inverse of parseForward, for messages. */
export function formatTarget(t: ForwardTarget): string {
  if (t.kind === 'unix') return `unix:${t.path}`;
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

export const FORWARD_HINT = 'expected HOST:PORT (127.0.0.1:24224, [::1]:24224) or unix:/path/to/socket';

export function checkReadable(opt: OptionSpec, raw: Raw, cwd: string): string {
  const path = resolvePath(cwd, toText(opt, raw).trim());
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw invalid(opt, raw.source, `cannot read ${path}: ${errCode(err)}`);
  }
  return path;
}
