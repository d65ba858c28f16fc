// The collector's configuration: ONE options table (like a Fluent Bit plugin's config map) from which the flags,
// environment variables, config-file keys, --help and the README table all come. Precedence per option:
// flag > environment > config file (--config FILE, JSON) > default. Errors name the setting, where it came from
// and what is expected, and never echo a secret.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { DI_REGIONS, JUMPCLOUD_OAUTH_TOKEN_URL, type DiRegion } from './di/regions.js';
import { ArgvError, closest, parseArgv, type FlagValue } from './argv.js';
import { DurationError, SINCE_HINT, formatDuration, parseDuration, parseSince } from './duration.js';
import { LOG_LEVELS, REDACTED, type LogLevel } from './log.js';
import type { CollectorConfig, DiAuth, ForwardTarget } from './types.js';

export const REGIONS = DI_REGIONS;
export type Region = DiRegion;
/** DI keeps events 90 days (15 on the lowest plan); --since further back is clamped. */
const RETENTION_MS = 90 * 86_400_000;
export const CLOCK_ENV = 'FLUENT_BIT_JUMPCLOUD_CLOCK';

type Kind =
  | 'string' | 'secret' | 'boolean' | 'duration' | 'since' | 'int' | 'list' | 'forward' | 'region' | 'url' | 'path'
  | 'file' | 'level' | 'tag';

export interface OptionSpec {
  /** Flag without dashes and config-file key (`api-url`). */
  readonly name: string;
  readonly kind: Kind;
  readonly group: 'JumpCloud API' | 'Fluent Bit' | 'Collection' | 'Operation' | 'Testing';
  readonly env?: string;
  /** Secrets can also come from a file: `--NAME-file`, `ENV_FILE`, file key `NAME-file`. */
  readonly fileVariant?: boolean;
  /** Default as text, parsed like any input. */
  readonly default?: string;
  /** How the default is shown when it is not a plain value. */
  readonly defaultText?: string;
  readonly metavar?: string;
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
  /** Not a config-file key (help, version, config, print-config). */
  readonly cliOnly?: boolean;
  /** Set only through the environment (testing hooks); no flag. */
  readonly envOnly?: boolean;
}

export const OPTIONS: readonly OptionSpec[] = [
  // JumpCloud API
  { name: 'region', kind: 'region', group: 'JumpCloud API', env: 'JUMPCLOUD_REGION', default: 'us', metavar: 'us|eu|in', description: 'JumpCloud region whose API to use when --api-url is not set.' },
  { name: 'api-url', kind: 'url', group: 'JumpCloud API', env: 'JUMPCLOUD_API_URL', defaultText: 'from --region', metavar: 'URL', description: 'Directory Insights base URL up to /insights/directory/v1 (e.g. a proxy or the simulator).' },
  { name: 'api-key', kind: 'secret', group: 'JumpCloud API', env: 'JUMPCLOUD_API_KEY', fileVariant: true, metavar: 'KEY', description: 'Admin API key (sent as x-api-key). Prefer the _FILE / -file form: flags show in `ps`. Without any credentials the built-in demo runs.' },
  { name: 'client-id', kind: 'string', group: 'JumpCloud API', env: 'JUMPCLOUD_CLIENT_ID', metavar: 'ID', description: 'Service account client id (OAuth 2 client credentials); needs --client-secret and --org-ids.' },
  { name: 'client-secret', kind: 'secret', group: 'JumpCloud API', env: 'JUMPCLOUD_CLIENT_SECRET', fileVariant: true, metavar: 'SECRET', description: 'Service account client secret.' },
  { name: 'token-url', kind: 'url', group: 'JumpCloud API', env: 'JUMPCLOUD_TOKEN_URL', default: JUMPCLOUD_OAUTH_TOKEN_URL, metavar: 'URL', description: 'OAuth 2 token endpoint of the service account.' },
  { name: 'org-ids', kind: 'list', group: 'JumpCloud API', env: 'JUMPCLOUD_ORG_IDS', defaultText: 'none', metavar: 'ID,ID', description: 'Organizations to collect (x-org-id), one stream each; required with a service account.' },
  { name: 'services', kind: 'list', group: 'JumpCloud API', env: 'JUMPCLOUD_SERVICES', default: 'all', metavar: 'NAME,NAME', description: 'DI services to collect, each its own stream (all, directory, sso, radius, systems, …; any name the API accepts).' },
  { name: 'page-limit', kind: 'int', group: 'JumpCloud API', env: 'JUMPCLOUD_PAGE_LIMIT', default: '10000', min: 1, max: 10_000, metavar: 'N', description: 'Events per API page (limit).' },
  { name: 'request-timeout', kind: 'duration', group: 'JumpCloud API', env: 'JUMPCLOUD_REQUEST_TIMEOUT', default: '60s', metavar: 'DURATION', description: 'Timeout of one API request; timed-out requests are retried.' },
  // Fluent Bit
  { name: 'forward', kind: 'forward', group: 'Fluent Bit', env: 'FLUENT_BIT_FORWARD', default: '127.0.0.1:24224', metavar: 'HOST:PORT|unix:PATH', description: 'Fluent Bit forward input to send to ([::1]:24224 for IPv6).' },
  { name: 'tag', kind: 'tag', group: 'Fluent Bit', env: 'FLUENT_BIT_TAG', default: 'jumpcloud.{service}', metavar: 'TEMPLATE', description: 'Tag of the records; {service} and {org} are replaced.' },
  { name: 'ack-settle', kind: 'duration', group: 'Fluent Bit', env: 'FLUENT_BIT_ACK_SETTLE', default: '500ms', metavar: 'DURATION', description: 'How long an ack must stand on an open connection before its events count as delivered: a threaded forward input acks from memory and stores every 250 ms, so a Fluent Bit killed sooner loses them; they are sent again instead. 0 trusts acks at once.' },
  { name: 'delivery-timeout', kind: 'duration', group: 'Fluent Bit', env: 'FLUENT_BIT_DELIVERY_TIMEOUT', default: '5m', metavar: 'DURATION', description: 'With --once: give up when Fluent Bit has acknowledged nothing for this long while events wait (unreachable or not acking): exit 1, the checkpoint stays where acks reached. 0 waits forever. Without --once the collector retries forever.' },
  { name: 'tls', kind: 'boolean', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS', default: 'false', description: 'Connect to the forward input with TLS.' },
  { name: 'tls-verify', kind: 'boolean', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS_VERIFY', default: 'true', description: 'Verify the server certificate (--no-tls-verify to skip).' },
  { name: 'tls-ca-file', kind: 'file', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS_CA_FILE', metavar: 'FILE', description: 'CA certificates (PEM) to trust.' },
  { name: 'tls-cert-file', kind: 'file', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS_CERT_FILE', metavar: 'FILE', description: 'Client certificate (PEM), with --tls-key-file.' },
  { name: 'tls-key-file', kind: 'file', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS_KEY_FILE', metavar: 'FILE', description: 'Client private key (PEM).' },
  { name: 'tls-servername', kind: 'string', group: 'Fluent Bit', env: 'FLUENT_BIT_TLS_SERVERNAME', defaultText: 'the forward host', metavar: 'NAME', description: 'Server name for SNI and certificate checks.' },
  { name: 'shared-key', kind: 'secret', group: 'Fluent Bit', env: 'FLUENT_BIT_SHARED_KEY', fileVariant: true, metavar: 'KEY', description: 'shared_key of the forward input (handshake).' },
  { name: 'username', kind: 'string', group: 'Fluent Bit', env: 'FLUENT_BIT_USERNAME', metavar: 'USER', description: 'User of the forward input\'s security.users (needs --shared-key and --password).' },
  { name: 'password', kind: 'secret', group: 'Fluent Bit', env: 'FLUENT_BIT_PASSWORD', fileVariant: true, metavar: 'PASSWORD', description: 'Password of --username.' },
  // Collection
  { name: 'state-dir', kind: 'path', group: 'Collection', env: 'JUMPCLOUD_STATE_DIR', default: './state', metavar: 'DIR', description: 'Where checkpoints and forwarded ids are kept (one file per org and service).' },
  { name: 'since', kind: 'since', group: 'Collection', env: 'JUMPCLOUD_SINCE', default: '1h', metavar: 'DURATION|DATE', description: 'First start only: collect from this long ago or this date (2026-01-31, 2026-01-31T08:00:00Z); at most 90 days.' },
  { name: 'lag', kind: 'duration', group: 'Collection', env: 'JUMPCLOUD_LAG', default: '2m', metavar: 'DURATION', description: 'Collect only up to now − lag, leaving the API time to index.' },
  { name: 'overlap', kind: 'duration', group: 'Collection', env: 'JUMPCLOUD_OVERLAP', default: '1h', metavar: 'DURATION', description: 'Trailing window re-scanned on every poll to catch late-indexed events (deduplicated by id).' },
  { name: 'interval', kind: 'duration', group: 'Collection', env: 'JUMPCLOUD_INTERVAL', default: '1m', metavar: 'DURATION', description: 'Time between polls.' },
  { name: 'slices', kind: 'int', group: 'Collection', env: 'JUMPCLOUD_SLICES', default: '4', min: 1, max: 32, metavar: 'N', description: 'Backfill parallelism: time slices fetched at once.' },
  { name: 'max-seen-ids', kind: 'int', group: 'Collection', env: 'JUMPCLOUD_MAX_SEEN_IDS', default: '1000000', min: 1, max: 100_000_000, metavar: 'N', description: 'Bound on the forwarded ids remembered per stream for deduplication.' },
  { name: 'once', kind: 'boolean', group: 'Collection', env: 'JUMPCLOUD_ONCE', default: 'false', description: 'One pass up to now − lag, wait for every ack, exit (0 all delivered, 1 not, 3 API refused).' },
  // Operation
  { name: 'config', kind: 'file', group: 'Operation', env: 'JUMPCLOUD_CONFIG', cliOnly: true, metavar: 'FILE', description: 'JSON config file: an object whose keys are these option names (e.g. {"services": ["sso"], "lag": "5m"}).' },
  { name: 'metrics-port', kind: 'int', group: 'Operation', env: 'JUMPCLOUD_METRICS_PORT', defaultText: 'off', min: 0, max: 65_535, metavar: 'PORT', description: 'Serve /metrics (Prometheus) and /healthz on this port (0: any free port).' },
  { name: 'metrics-host', kind: 'string', group: 'Operation', env: 'JUMPCLOUD_METRICS_HOST', default: '127.0.0.1', metavar: 'HOST', description: 'Address of the metrics endpoint.' },
  { name: 'log-level', kind: 'level', group: 'Operation', env: 'JUMPCLOUD_LOG_LEVEL', default: 'info', metavar: LOG_LEVELS.join('|'), description: 'Level of the JSON logs on stderr.' },
  { name: 'print-config', kind: 'boolean', group: 'Operation', cliOnly: true, default: 'false', description: 'Print the resolved configuration (secrets redacted) as JSON and exit.' },
  { name: 'help', kind: 'boolean', group: 'Operation', cliOnly: true, default: 'false', description: 'Show this help and exit.' },
  { name: 'version', kind: 'boolean', group: 'Operation', cliOnly: true, default: 'false', description: 'Show the version and exit.' },
  // Testing
  { name: 'clock', kind: 'string', group: 'Testing', env: CLOCK_ENV, envOnly: true, cliOnly: true, metavar: 'SPEC', description: 'Testing only: an accelerated clock shared with the simulator, `<ISO time>@<real epoch ms>x<speed>`.' },
];

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

// ---------------------------------------------------------------- errors

export type SourceKind = 'flag' | 'env' | 'file' | 'default';
export interface Source {
  readonly kind: SourceKind;
  /** `--lag`, `JUMPCLOUD_LAG`, `key "lag" of /etc/x.json`, `default`. */
  readonly label: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly fatal = true;
  /** The option name (`lag`), or undefined for argv-level problems. */
  readonly setting: string | undefined;
  readonly source: Source | undefined;
  constructor(message: string, setting?: string, source?: Source) {
    super(message);
    this.setting = setting;
    this.source = source;
  }
}

function invalid(opt: OptionSpec, src: Source, what: string): ConfigError {
  const where = src.kind === 'default' ? 'default' : `from ${src.kind === 'flag' ? 'flag' : src.kind === 'env' ? 'env' : 'config file'} ${src.label}`;
  return new ConfigError(`invalid --${opt.name} (${where}): ${what}`, opt.name, src);
}

// ---------------------------------------------------------------- raw values

type RawValue = string | boolean | readonly string[];
interface Raw {
  readonly value: RawValue;
  readonly source: Source;
  /** The value came out of a file named by a *_FILE setting. */
  readonly fromFile?: string;
}

export interface LoadInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Epoch ms, for --since. */
  readonly now: number;
  /** Base for relative paths; default process.cwd(). */
  readonly cwd?: string;
}

/** The collector config minus what the built-in demo fills in (credentials and URL of its simulator). */
export type DraftConfig = Omit<CollectorConfig, 'auth'> & { readonly auth?: DiAuth };

export interface LoadedConfig {
  readonly kind: 'run';
  readonly config: DraftConfig;
  /** No credentials and no --api-url: run against the built-in simulator. */
  readonly demo: boolean;
  readonly region: Region;
  readonly logLevel: LogLevel;
  readonly printConfig: boolean;
  /** FLUENT_BIT_JUMPCLOUD_CLOCK (testing only). */
  readonly clockSpec?: string;
  readonly configFile?: string;
  readonly warnings: readonly string[];
  /** Where each option's value came from. */
  readonly sources: Readonly<Record<string, SourceKind>>;
}

export type LoadResult = LoadedConfig | { readonly kind: 'help' } | { readonly kind: 'version' };

function describeFlag(name: string): 'value' | 'boolean' | undefined {
  const opt = BY_NAME.get(name);
  if (opt && !opt.envOnly) return opt.kind === 'boolean' ? 'boolean' : 'value';
  if (name.endsWith('-file') && BY_NAME.get(name.slice(0, -5))?.fileVariant) return 'value';
  return undefined;
}

const FLAG_NAMES = [
  ...OPTIONS.filter((o) => !o.envOnly).map((o) => o.name),
  ...OPTIONS.filter((o) => o.fileVariant).map((o) => `${o.name}-file`),
];

function readConfigFile(path: string, src: Source): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path} (from ${src.kind} ${src.label}): ${errCode(err)}`, 'config', src);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, 'config', src);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of option names to values, e.g. {"services": ["sso"]}`, 'config', src);
  }
  const fileKeys = OPTIONS.filter((o) => !o.cliOnly).map((o) => o.name).concat(OPTIONS.filter((o) => o.fileVariant).map((o) => `${o.name}-file`));
  for (const key of Object.keys(data)) {
    if (!fileKeys.includes(key)) {
      const hint = closest(key, fileKeys);
      throw new ConfigError(`config file ${path}: unknown key "${key}"${hint ? `: did you mean "${hint}"?` : ''} (keys are the option names of --help without dashes)`, 'config', src);
    }
  }
  return data as Record<string, unknown>;
}

function errCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return e.code ? `${e.code} (${reason})` : reason;
}

function fileValue(opt: OptionSpec, key: string, value: unknown, path: string): RawValue {
  const src: Source = { kind: 'file', label: `key "${key}" of ${path}` };
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' && opt.kind === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value) && opt.kind !== 'secret' && opt.kind !== 'list' && opt.kind !== 'boolean') return String(value);
  if (Array.isArray(value) && opt.kind === 'list' && value.every((v) => typeof v === 'string')) return value as string[];
  const expected = opt.kind === 'list' ? 'a list of strings or a comma-separated string' : opt.kind === 'boolean' ? 'true or false' : opt.kind === 'int' ? 'a number' : 'a string';
  throw invalid(opt, src, `expected ${expected}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/** Reads a secret from the file a *_FILE setting names; the content is trimmed and must not be empty. */
function readSecretFile(opt: OptionSpec, path: string, src: Source, cwd: string): string {
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

// ---------------------------------------------------------------- typed values

function toBool(opt: OptionSpec, raw: Raw): boolean {
  if (typeof raw.value === 'boolean') return raw.value;
  const v = String(raw.value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw invalid(opt, raw.source, `"${raw.value}" is not a boolean: expected true or false`);
}

function toText(opt: OptionSpec, raw: Raw): string {
  if (typeof raw.value !== 'string') throw invalid(opt, raw.source, 'expected a single value');
  return raw.value;
}

function toInt(opt: OptionSpec, raw: Raw): number {
  const text = toText(opt, raw).trim();
  // Group separators help with big numbers: 1_000_000 or 1,000,000.
  if (!/^\d{1,3}([_,]?\d{3})*$|^\d+$/.test(text)) {
    throw invalid(opt, raw.source, `"${text}" is not a whole number: expected an integer from ${opt.min} to ${opt.max}`);
  }
  const n = Number(text.replace(/[_,]/g, ''));
  if (n < (opt.min ?? 0) || n > (opt.max ?? Number.MAX_SAFE_INTEGER)) {
    throw invalid(opt, raw.source, `${n} is out of range: expected ${opt.min} to ${opt.max}`);
  }
  return n;
}

function toDuration(opt: OptionSpec, raw: Raw): number {
  try {
    return parseDuration(toText(opt, raw));
  } catch (err) {
    if (err instanceof DurationError) throw invalid(opt, raw.source, err.message);
    throw err;
  }
}

function toList(opt: OptionSpec, raw: Raw): string[] {
  const parts = typeof raw.value === 'string' ? raw.value.split(',') : Array.isArray(raw.value) ? [...raw.value] : [];
  const items = [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
  for (const item of items) {
    // Service names are never whitelisted (the API grows them); only the shape is checked.
    if (!/^[A-Za-z0-9_.-]+$/.test(item)) {
      throw invalid(opt, raw.source, `"${item}" is not a valid name: expected letters, digits, _ . - separated by commas`);
    }
  }
  return items;
}

function toUrl(opt: OptionSpec, raw: Raw): string {
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
  if (url.username || url.password) throw invalid(opt, raw.source, 'credentials do not belong in the URL: use --api-key or the service account options');
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
    if (host === '' || !(isIP(host) === 4 || /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host))) {
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

const FORWARD_HINT = 'expected HOST:PORT (127.0.0.1:24224, [::1]:24224) or unix:/path/to/socket';

// ---------------------------------------------------------------- load

/**
 * Resolves argv, environment and the optional config file into a validated configuration.
 * Throws ConfigError (exit code 2) with a message that names the setting and its source.
 */
export function loadConfig(input: LoadInput): LoadResult {
  const cwd = input.cwd ?? process.cwd();
  let parsed;
  try {
    parsed = parseArgv(input.argv, describeFlag, (n) => closest(n, FLAG_NAMES));
  } catch (err) {
    if (err instanceof ArgvError) throw new ConfigError(err.message);
    throw err;
  }
  if (parsed.positionals.length > 0) {
    throw new ConfigError(`unexpected argument "${parsed.positionals[0]}": options start with -- (see --help); the only subcommand is "simulate"`);
  }
  const flags = new Map<string, FlagValue[]>();
  for (const f of parsed.flags) flags.set(f.name, [...(flags.get(f.name) ?? []), f]);
  const flag = (name: string): FlagValue | undefined => flags.get(name)?.at(-1);
  if (flag('help') && flag('help')!.value !== 'false') return { kind: 'help' };
  if (flag('version') && flag('version')!.value !== 'false') return { kind: 'version' };

  const env = (name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const v = input.env[name];
    return v === undefined || v === '' ? undefined : v;
  };

  // Config file first: its path itself is a flag or env setting.
  let file: Record<string, unknown> = {};
  let configFile: string | undefined;
  const cfgOpt = BY_NAME.get('config')!;
  const cfgFlag = flag('config');
  const cfgSrc: Source | undefined = cfgFlag ? { kind: 'flag', label: '--config' } : env(cfgOpt.env) ? { kind: 'env', label: cfgOpt.env! } : undefined;
  if (cfgSrc) {
    configFile = resolvePath(cwd, String(cfgFlag ? cfgFlag.value : env(cfgOpt.env)));
    file = readConfigFile(configFile, cfgSrc);
  }

  /** The winning raw value of an option, honouring flag > env > file > default and the *_FILE variants. */
  function raw(opt: OptionSpec): Raw | undefined {
    const fileName = `${opt.name}-file`;
    const envFile = opt.env ? `${opt.env}_FILE` : undefined;
    const pick = (direct: Raw | undefined, viaFile: { path: string; source: Source } | undefined, a: string, b: string): Raw | undefined => {
      if (direct && viaFile) {
        throw new ConfigError(`both ${a} and ${b} are set: give the ${opt.name} one way only`, opt.name, direct.source);
      }
      if (viaFile) return { value: readSecretFile(opt, viaFile.path, viaFile.source, cwd), source: viaFile.source, fromFile: viaFile.path };
      return direct;
    };
    // Flags (repeated list flags accumulate; other flags: the last wins).
    const fl = flags.get(opt.name);
    const ff = opt.fileVariant ? flag(fileName) : undefined;
    if (fl || ff) {
      const direct: Raw | undefined = fl
        ? { value: opt.kind === 'list' ? fl.flatMap((f) => String(f.value).split(',')) : fl.at(-1)!.value, source: { kind: 'flag', label: `--${opt.name}` } }
        : undefined;
      return pick(direct, ff ? { path: String(ff.value), source: { kind: 'flag', label: `--${fileName}` } } : undefined, `--${opt.name}`, `--${fileName}`);
    }
    const ev = env(opt.env);
    const ef = opt.fileVariant ? env(envFile) : undefined;
    if (ev !== undefined || ef !== undefined) {
      return pick(
        ev !== undefined ? { value: ev, source: { kind: 'env', label: opt.env! } } : undefined,
        ef !== undefined ? { path: ef, source: { kind: 'env', label: envFile! } } : undefined,
        opt.env!, envFile!,
      );
    }
    if (!opt.cliOnly && (opt.name in file || (opt.fileVariant && fileName in file))) {
      const fv = opt.name in file ? { value: fileValue(opt, opt.name, file[opt.name], configFile!), source: { kind: 'file' as const, label: `key "${opt.name}" of ${configFile}` } } : undefined;
      const fp = opt.fileVariant && fileName in file
        ? { path: String(fileValue(opt, fileName, file[fileName], configFile!)), source: { kind: 'file' as const, label: `key "${fileName}" of ${configFile}` } }
        : undefined;
      return pick(fv, fp, `"${opt.name}"`, `"${fileName}"`);
    }
    if (opt.default !== undefined) return { value: opt.default, source: { kind: 'default', label: 'default' } };
    return undefined;
  }

  const sources: Record<string, SourceKind> = {};
  const get = (name: string): Raw | undefined => {
    const r = raw(BY_NAME.get(name)!);
    if (r) sources[name] = r.source.kind;
    return r;
  };
  const opt = (name: string): OptionSpec => BY_NAME.get(name)!;
  const req = (name: string): Raw => get(name)!;
  const text = (name: string): string | undefined => {
    const r = get(name);
    if (!r) return undefined;
    const t = toText(opt(name), r).trim();
    if (t === '') throw invalid(opt(name), r.source, 'is empty');
    return t;
  };
  const warnings: string[] = [];

  // Region and URL.
  const regionRaw = req('region');
  const regionText = toText(opt('region'), regionRaw).trim().toLowerCase();
  if (!(regionText in REGIONS)) throw invalid(opt('region'), regionRaw.source, `"${regionText}" is not a region: expected us, eu or in`);
  const region = regionText as Region;
  const urlRaw = get('api-url');
  const rank = (s: Source): number => ['default', 'file', 'env', 'flag'].indexOf(s.kind);
  let apiUrl: string = REGIONS[region];
  if (urlRaw) {
    apiUrl = toUrl(opt('api-url'), urlRaw);
    if (regionRaw.source.kind !== 'default' && rank(regionRaw.source) > rank(urlRaw.source)) {
      apiUrl = REGIONS[region];
      warnings.push(`--region ${region} (${regionRaw.source.label}) overrides --api-url from ${urlRaw.source.label}`);
    } else if (regionRaw.source.kind !== 'default') {
      warnings.push(`--api-url (${urlRaw.source.label}) is used; --region ${region} (${regionRaw.source.label}) is ignored`);
    }
  }

  // Credentials.
  const apiKeyRaw = get('api-key');
  const clientIdRaw = get('client-id');
  const clientSecretRaw = get('client-secret');
  const orgIds = get('org-ids') ? toList(opt('org-ids'), req('org-ids')) : [];
  if (apiKeyRaw && (clientIdRaw || clientSecretRaw)) {
    const other = (clientIdRaw ?? clientSecretRaw)!;
    throw new ConfigError(
      `an API key (${apiKeyRaw.source.label}) and a service account (${other.source.label}) are both set: use one of them`,
      'api-key', apiKeyRaw.source);
  }
  let auth: DiAuth | undefined;
  if (apiKeyRaw) {
    const apiKey = toText(opt('api-key'), apiKeyRaw).trim();
    if (apiKey === '') throw invalid(opt('api-key'), apiKeyRaw.source, 'is empty');
    auth = { kind: 'apiKey', apiKey };
  } else if (clientIdRaw || clientSecretRaw) {
    if (!clientIdRaw) throw new ConfigError(`--client-secret (${clientSecretRaw!.source.label}) needs --client-id (env JUMPCLOUD_CLIENT_ID)`, 'client-id');
    if (!clientSecretRaw) throw new ConfigError(`--client-id (${clientIdRaw.source.label}) needs --client-secret (env JUMPCLOUD_CLIENT_SECRET or JUMPCLOUD_CLIENT_SECRET_FILE)`, 'client-secret');
    if (orgIds.length === 0) {
      throw new ConfigError('a service account (--client-id) needs --org-ids (env JUMPCLOUD_ORG_IDS): JumpCloud requires x-org-id with OAuth tokens', 'org-ids');
    }
    const tokenUrlRaw = req('token-url');
    auth = {
      kind: 'oauth',
      clientId: toText(opt('client-id'), clientIdRaw).trim(),
      clientSecret: toText(opt('client-secret'), clientSecretRaw).trim(),
      tokenUrl: toUrl(opt('token-url'), tokenUrlRaw),
    };
  }
  const demo = auth === undefined && urlRaw === undefined;
  if (auth === undefined && !demo) {
    throw new ConfigError(
      `--api-url is set (${urlRaw!.source.label}) but no credentials: set --api-key / JUMPCLOUD_API_KEY(_FILE), or --client-id and --client-secret (or unset --api-url to run the built-in demo)`,
      'api-key');
  }
  if (apiUrl.startsWith('http://') && !/^http:\/\/(127\.|localhost|\[::1\])/.test(apiUrl)) {
    warnings.push(`--api-url ${apiUrl} is not encrypted: credentials travel in clear text`);
  }

  // Streams.
  const services = toList(opt('services'), req('services'));
  if (services.length === 0) throw invalid(opt('services'), req('services').source, 'names no service: expected e.g. all or directory,sso');

  // Forward target and its security.
  const fwdRaw = req('forward');
  let forward: ForwardTarget;
  try {
    forward = parseForward(toText(opt('forward'), fwdRaw));
  } catch (err) {
    throw invalid(opt('forward'), fwdRaw.source, `${(err as Error).message}; ${FORWARD_HINT}`);
  }
  if (forward.kind === 'unix') forward = { kind: 'unix', path: resolvePath(cwd, forward.path) };
  const tagRaw = req('tag');
  const tag = toText(opt('tag'), tagRaw).trim();
  const badPlaceholder = /\{(?!service\}|org\})[^}]*\}?/.exec(tag);
  if (tag === '' || /\s/.test(tag) || badPlaceholder) {
    throw invalid(opt('tag'), tagRaw.source, `"${tag}" is not a tag template: expected text without spaces using {service} and {org}, e.g. jumpcloud.{service}`);
  }
  const tlsOn = toBool(opt('tls'), req('tls'));
  const tlsVerify = toBool(opt('tls-verify'), req('tls-verify'));
  const tlsFiles: Record<string, string | undefined> = {};
  for (const name of ['tls-ca-file', 'tls-cert-file', 'tls-key-file']) {
    const r = get(name);
    if (!r) continue;
    if (!tlsOn) throw invalid(opt(name), r.source, 'is set but --tls is off: add --tls (env FLUENT_BIT_TLS=true)');
    tlsFiles[name] = checkReadable(opt(name), r, cwd);
  }
  if (tlsFiles['tls-cert-file'] !== undefined && tlsFiles['tls-key-file'] === undefined) {
    throw new ConfigError('--tls-cert-file needs --tls-key-file (the client private key)', 'tls-key-file');
  }
  if (tlsFiles['tls-key-file'] !== undefined && tlsFiles['tls-cert-file'] === undefined) {
    throw new ConfigError('--tls-key-file needs --tls-cert-file (the client certificate)', 'tls-cert-file');
  }
  const servername = text('tls-servername');
  if (!tlsVerify && tlsOn) warnings.push('--no-tls-verify: the Fluent Bit server certificate is not checked');
  const sharedKey = text('shared-key');
  const username = text('username');
  const password = text('password');
  if (username !== undefined && password === undefined) throw new ConfigError('--username needs --password (env FLUENT_BIT_PASSWORD or FLUENT_BIT_PASSWORD_FILE)', 'password');
  if (password !== undefined && username === undefined) throw new ConfigError('--password needs --username (env FLUENT_BIT_USERNAME)', 'username');
  if (username !== undefined && sharedKey === undefined) {
    throw new ConfigError('--username needs --shared-key: Fluent Bit checks users only inside the shared-key handshake', 'shared-key');
  }

  // Windows.
  const lagMs = toDuration(opt('lag'), req('lag'));
  const overlapMs = toDuration(opt('overlap'), req('overlap'));
  const intervalMs = toDuration(opt('interval'), req('interval'));
  if (intervalMs <= 0) throw invalid(opt('interval'), req('interval').source, 'must be more than 0');
  const ackSettleMs = toDuration(opt('ack-settle'), req('ack-settle'));
  if (ackSettleMs > 60_000) throw invalid(opt('ack-settle'), req('ack-settle').source, 'must be at most 1m: events wait this long after their ack before they count as delivered');
  const deliveryTimeoutMs = toDuration(opt('delivery-timeout'), req('delivery-timeout'));
  const requestTimeoutMs = toDuration(opt('request-timeout'), req('request-timeout'));
  if (requestTimeoutMs <= 0) throw invalid(opt('request-timeout'), req('request-timeout').source, 'must be more than 0');
  const sinceRaw = req('since');
  let sinceMs: number;
  try {
    sinceMs = parseSince(toText(opt('since'), sinceRaw), input.now).ms;
  } catch (err) {
    if (err instanceof DurationError) throw invalid(opt('since'), sinceRaw.source, err.message);
    throw err;
  }
  if (sinceMs >= input.now) {
    throw invalid(opt('since'), sinceRaw.source, `${new Date(sinceMs).toISOString()} is not in the past: expected ${SINCE_HINT}`);
  }
  if (input.now - sinceMs > RETENTION_MS) {
    const clamped = input.now - RETENTION_MS;
    warnings.push(`--since ${new Date(sinceMs).toISOString()} is older than the 90-day retention of Directory Insights: starting at ${new Date(clamped).toISOString()} instead`);
    sinceMs = clamped;
  }
  if (overlapMs > 0 && overlapMs < lagMs) {
    warnings.push(`--overlap ${formatDuration(overlapMs)} is shorter than --lag ${formatDuration(lagMs)}: events indexed later than the lag may be missed`);
  }

  const stateDirRaw = req('state-dir');
  const stateDir = resolvePath(cwd, toText(opt('state-dir'), stateDirRaw).trim());
  try {
    if (!statSync(stateDir).isDirectory()) throw invalid(opt('state-dir'), stateDirRaw.source, `${stateDir} exists and is not a directory`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw invalid(opt('state-dir'), stateDirRaw.source, `cannot use ${stateDir}: ${errCode(err)}`);
  }

  const metricsPortRaw = get('metrics-port');
  const metricsHost = text('metrics-host')!;
  const levelRaw = req('log-level');
  const logLevel = toText(opt('log-level'), levelRaw).trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw invalid(opt('log-level'), levelRaw.source, `"${logLevel}" is not a level: expected one of ${LOG_LEVELS.join(', ')}`);
  }

  const config: DraftConfig = {
    apiUrl,
    ...(auth ? { auth } : {}),
    orgIds,
    services,
    pageLimit: toInt(opt('page-limit'), req('page-limit')),
    requestTimeoutMs,
    forward,
    ackSettleMs,
    ...(deliveryTimeoutMs > 0 ? { deliveryTimeoutMs } : {}),
    ...(tlsOn
      ? { tls: {
          verify: tlsVerify,
          ...(tlsFiles['tls-ca-file'] ? { caFile: tlsFiles['tls-ca-file'] } : {}),
          ...(tlsFiles['tls-cert-file'] ? { certFile: tlsFiles['tls-cert-file'] } : {}),
          ...(tlsFiles['tls-key-file'] ? { keyFile: tlsFiles['tls-key-file'] } : {}),
          ...(servername ? { servername } : {}),
        } }
      : {}),
    ...(sharedKey !== undefined ? { sharedKey } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tag,
    stateDir,
    sinceMs,
    lagMs,
    overlapMs,
    intervalMs,
    once: toBool(opt('once'), req('once')),
    backfillSlices: toInt(opt('slices'), req('slices')),
    maxSeenIds: toInt(opt('max-seen-ids'), req('max-seen-ids')),
    ...(metricsPortRaw ? { metrics: { host: metricsHost, port: toInt(opt('metrics-port'), metricsPortRaw) } } : {}),
  };
  const clockSpec = env(CLOCK_ENV);
  return {
    kind: 'run',
    config,
    demo,
    region,
    logLevel: logLevel as LogLevel,
    printConfig: toBool(opt('print-config'), req('print-config')),
    ...(clockSpec !== undefined ? { clockSpec } : {}),
    ...(configFile !== undefined ? { configFile } : {}),
    warnings,
    sources,
  };
}

function checkReadable(opt: OptionSpec, raw: Raw, cwd: string): string {
  const path = resolvePath(cwd, toText(opt, raw).trim());
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw invalid(opt, raw.source, `cannot read ${path}: ${errCode(err)}`);
  }
  return path;
}

// ---------------------------------------------------------------- printing


/** The config with every secret replaced, for logs and --print-config. */
export function redactConfig(config: DraftConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  if (config.auth?.kind === 'apiKey') out.auth = { kind: 'apiKey', apiKey: REDACTED };
  if (config.auth?.kind === 'oauth') out.auth = { ...config.auth, clientSecret: REDACTED };
  for (const key of ['sharedKey', 'password'] as const) if (config[key] !== undefined) out[key] = REDACTED;
  // Human forms replace the millisecond fields.
  out.since = new Date(config.sinceMs).toISOString();
  delete out.sinceMs;
  for (const key of ['lagMs', 'overlapMs', 'intervalMs', 'requestTimeoutMs', 'ackSettleMs', 'deliveryTimeoutMs'] as const) {
    const v = config[key];
    if (v !== undefined) out[key.replace(/Ms$/, '')] = formatDuration(v);
    delete out[key];
  }
  return out;
}

function defaultShown(o: OptionSpec): string {
  if (o.kind === 'secret') return '';
  return o.defaultText ?? o.default ?? '';
}

function envShown(o: OptionSpec): string[] {
  if (!o.env) return [];
  return o.fileVariant ? [o.env, `${o.env}_FILE`] : [o.env];
}

const GROUPS = ['JumpCloud API', 'Fluent Bit', 'Collection', 'Operation', 'Testing'] as const;

/** --help text, generated from OPTIONS. */
export function renderHelp(version: string): string {
  const lines: string[] = [
    `fluent-bit-jumpcloud ${version}: JumpCloud Directory Insights events into Fluent Bit, each exactly once.`,
    '',
    'Usage: fluent-bit-jumpcloud [options]',
    '       fluent-bit-jumpcloud simulate [options]    run the Directory Insights simulator (see simulate --help)',
    '',
    'Without an API key or service account it runs a built-in demo against the simulator.',
    'Precedence: flags > environment > config file (--config) > defaults. Durations: 90s, 15m, 4h, 30d, 1h30m.',
  ];
  for (const group of GROUPS) {
    lines.push('', `${group}:`);
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const head = o.envOnly ? `${o.env}=${o.metavar ?? ''}` : `--${o.name}${o.metavar ? ` ${o.metavar}` : ''}`;
      const extras: string[] = [];
      if (o.fileVariant) extras.push(`or --${o.name}-file FILE`);
      if (!o.envOnly && o.env) extras.push(`env ${envShown(o).join(', ')}`);
      const def = defaultShown(o);
      if (def && o.kind !== 'boolean') extras.push(`default: ${def}`);
      if (o.kind === 'boolean' && def === 'true') extras.push('default: on');
      lines.push(`  ${head}`);
      lines.push(`      ${o.description}${extras.length ? ` [${extras.join('; ')}]` : ''}`);
    }
  }
  lines.push(
    '',
    'Examples:',
    '  fluent-bit-jumpcloud                                          # demo against the built-in simulator',
    '  JUMPCLOUD_API_KEY_FILE=/run/secrets/jc fluent-bit-jumpcloud --services directory,sso',
    '  fluent-bit-jumpcloud --api-key-file jc.key --since 30d --slices 8 --once   # backfill 30 days, then exit',
    '  fluent-bit-jumpcloud --client-id ID --client-secret-file s.txt --org-ids ORG1,ORG2 --region eu',
  );
  lines.push(
    '',
    'Exit codes: 0 ok, 1 events not delivered (--once), 2 configuration error, 3 the API refused (bad key, DI not licensed, missing org id).',
  );
  return `${lines.join('\n')}\n`;
}

/** The README configuration table (markdown), generated from OPTIONS. */
export function renderMarkdownTable(): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = ['| Option | Environment | Default | Description |', '| --- | --- | --- | --- |'];
  for (const o of OPTIONS) {
    if (o.name === 'help' || o.name === 'version') continue;
    const flagCell = o.envOnly ? '' : `\`--${o.name}${o.metavar ? ` ${o.metavar}` : ''}\`${o.fileVariant ? `<br>\`--${o.name}-file FILE\`` : ''}`;
    const envCell = envShown(o).map((e) => `\`${e}\``).join('<br>');
    const def = defaultShown(o);
    // Literal defaults as code, descriptions of a default (from --region, off) as text.
    const defCell = !def ? '' : o.defaultText !== undefined ? esc(o.defaultText) : `\`${esc(def)}\``;
    rows.push(`| ${esc(flagCell)} | ${envCell} | ${defCell} | ${esc(o.description)} |`);
  }
  return `${rows.join('\n')}\n`;
}
