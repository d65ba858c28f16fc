// The collector's configuration: ONE options table (like a Fluent Bit plugin's config map) from which the flags,
// environment variables, config-file keys, --help and the README table all come. Precedence per option:
// flag > environment > config file (--config FILE, JSON) > default. Each option's `group` names its --help section
// and the validator that reads and cross-checks it (config/api.ts, fluent-bit.ts, collection.ts, operation.ts).
// Errors name the setting, where it came from and what is expected, and never echo a secret.
import { apiSettings } from './config/api.js';
import { collectionSettings } from './config/collection.js';
import { fluentBitSettings } from './config/fluent-bit.js';
import { operationSettings, testingSettings } from './config/operation.js';
import { readSettings, type Settings } from './config/sources.js';
import { ConfigError, GROUPS, type Group, type OptionSpec, type SourceKind } from './config/spec.js';
import { DI_REGIONS, type DiRegion } from './di/regions.js';
import { formatDuration } from './duration.js';
import { orgsOfShard } from './shard.js';
import { LOG_LEVELS, REDACTED, type LogLevel } from './log.js';
import type { CollectorConfig, DiAuth } from './types.js';

export { ConfigError, type OptionSpec, type Source, type SourceKind } from './config/spec.js';
export { formatTarget, parseForward } from './config/values.js';

export const REGIONS = DI_REGIONS;
export type Region = DiRegion;
export const CLOCK_ENV = 'FLUENT_BIT_JUMPCLOUD_CLOCK';

export const OPTIONS: readonly OptionSpec[] = [
  // JumpCloud API
  {
    name: 'region',
    kind: 'region',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_REGION',
    default: 'us',
    metavar: 'us|eu|in',
    description: 'JumpCloud region whose API to use when --api-url is not set.',
  },
  {
    name: 'api-url',
    kind: 'url',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_API_URL',
    defaultText: 'from --region',
    metavar: 'URL',
    description: 'Directory Insights base URL up to /insights/directory/v1 (e.g. a proxy or the simulator).',
  },
  {
    name: 'api-key',
    kind: 'secret',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_API_KEY',
    fileVariant: true,
    metavar: 'KEY',
    description:
      'Admin API key (sent as x-api-key). Prefer the _FILE / -file form: flags show in `ps`. Without any ' +
      'credentials the built-in demo runs.',
  },
  {
    name: 'client-id',
    kind: 'string',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_CLIENT_ID',
    metavar: 'ID',
    description: 'Service account client id (OAuth 2 client credentials); needs --client-secret and --org-ids.',
  },
  {
    name: 'client-secret',
    kind: 'secret',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_CLIENT_SECRET',
    fileVariant: true,
    metavar: 'SECRET',
    description: 'Service account client secret.',
  },
  {
    name: 'token-url',
    kind: 'url',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_TOKEN_URL',
    defaultText: 'from --region',
    metavar: 'URL',
    description:
      "OAuth 2 token endpoint of the service account; by default the region's, https://admin-oauth.id[.eu|.in].jumpcloud.com/oauth2/token (README: Regions).",
  },
  {
    name: 'org-ids',
    kind: 'list',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_ORG_IDS',
    defaultText: 'none',
    metavar: 'ID,ID',
    description:
      'Organizations to collect (x-org-id), each with its own state; read --org-batch-size at a time. ' +
      'Required with a service account.',
  },
  {
    name: 'org-batch-size',
    kind: 'int',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_ORG_BATCH_SIZE',
    default: '100',
    min: 1,
    max: 1000,
    metavar: 'N',
    description:
      'Orgs of --org-ids read with one request per service (x-org-id repeated); each event goes to its org by ' +
      'its "organization" (docs/collector.md: Many orgs). 1: a request per org.',
  },
  {
    name: 'provider-id',
    kind: 'string',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_PROVIDER_ID',
    defaultText: 'none',
    metavar: 'ID',
    description:
      "An MSP's provider id: also collect the Multi-Tenant Portal's own events (x-provider-id), one more " +
      'stream tagged jumpcloud.provider.<ID> (docs/collector.md: Provider events).',
  },
  {
    name: 'shard',
    kind: 'string',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_SHARD',
    defaultText: 'every org',
    metavar: 'K/N',
    description:
      'Collect only the orgs of --org-ids in shard K of N (0 ≤ K < N; jump hash of the org id; docs/operations.md: ' +
      'Sharding), each instance with its own --state-dir. K may be a StatefulSet pod name ending in -<ordinal> ' +
      '(JUMPCLOUD_SHARD=$(POD_NAME)/3).',
  },
  {
    name: 'services',
    kind: 'list',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_SERVICES',
    default: 'all',
    metavar: 'NAME,NAME',
    description:
      'DI services to collect, each its own stream (all, directory, sso, radius, systems, …; any name the API ' +
      'accepts).',
  },
  {
    name: 'services-check',
    kind: 'duration',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_SERVICES_CHECK',
    default: '1h',
    metavar: 'DURATION',
    description:
      'With --services all: how often to check which services "all" misses (a few requests per ' +
      '--org-batch-size orgs); those are collected too (docs/collector.md: Services). 0: never check.',
  },
  {
    name: 'page-limit',
    kind: 'int',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_PAGE_LIMIT',
    default: '10000',
    min: 1,
    max: 10_000,
    metavar: 'N',
    description: 'Events per API page (limit).',
  },
  {
    name: 'max-requests-per-second',
    kind: 'int',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_MAX_RPS',
    default: '10',
    min: 0,
    max: 10_000,
    metavar: 'N',
    description:
      'Requests per second to the DI API, shared fairly by every stream (round-robin over the queries: a batch of ' +
      'orgs × service); a 429 pauses them all (Retry-After honoured). JumpCloud publishes no limit; peers use 2 to ' +
      '10. 0: no limit.',
  },
  {
    name: 'request-timeout',
    kind: 'duration',
    group: 'JumpCloud API',
    env: 'JUMPCLOUD_REQUEST_TIMEOUT',
    default: '60s',
    metavar: 'DURATION',
    description: 'Timeout of one API request; timed-out requests are retried.',
  },
  // Fluent Bit
  {
    name: 'forward',
    kind: 'forward',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_FORWARD',
    default: '127.0.0.1:24224',
    metavar: 'HOST:PORT|unix:PATH',
    description: 'Fluent Bit forward input to send to ([::1]:24224 for IPv6).',
  },
  {
    name: 'tag',
    kind: 'tag',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TAG',
    default: 'jumpcloud.{service}',
    metavar: 'TEMPLATE',
    description: 'Tag of the records; {service} and {org} are replaced.',
  },
  {
    name: 'ack-settle',
    kind: 'duration',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_ACK_SETTLE',
    default: '500ms',
    metavar: 'DURATION',
    description:
      'How long an ack must stand on an open connection before its events count as delivered: a threaded forward ' +
      'input acks from memory and stores every 250 ms, so a Fluent Bit killed sooner loses them; they are sent ' +
      'again instead. 0 trusts acks at once.',
  },
  {
    name: 'fluent-bit-http',
    kind: 'string',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_HTTP',
    default: 'auto',
    metavar: 'HOST:PORT|auto|off',
    description:
      "Fluent Bit's built-in HTTP server (http_server on; the shipped configuration listens on 127.0.0.1:2020). " +
      'After a kill of the collector alone, its /api/v1/uptime shows Fluent Bit ran on and /api/v1/metrics counts ' +
      'what --fluent-bit-input stored, so events it stored before the kill (acked or still in flight) are known ' +
      "stored and not sent again. auto: with --forward on loopback port 24224 (the shipped pipeline's), " +
      '127.0.0.1:2020 is used if a Fluent Bit there lists --fluent-bit-input; otherwise one warning says why and ' +
      'the collector runs without it. off: never.',
  },
  {
    name: 'fluent-bit-input',
    kind: 'string',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_INPUT',
    default: 'jumpcloud_forward',
    metavar: 'NAME',
    description:
      'With --fluent-bit-http: the name (Alias) of the forward input that receives the collector and nothing else, ' +
      "as in Fluent Bit's /api/v1/metrics. Its stored-records counter tells a restarted collector exactly which " +
      'chunks in flight at a kill Fluent Bit stored, so none is sent again. Another sender on that input: they are ' +
      'sent again, as without it.',
  },
  {
    name: 'delivery-timeout',
    kind: 'duration',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_DELIVERY_TIMEOUT',
    default: '5m',
    metavar: 'DURATION',
    description:
      'With --once: give up when Fluent Bit has acknowledged nothing for this long while events wait (unreachable ' +
      'or not acking): exit 1, the checkpoint stays where acks reached. 0 waits forever. Without --once the ' +
      'collector retries forever.',
  },
  {
    name: 'tls',
    kind: 'boolean',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS',
    default: 'false',
    description: 'Connect to the forward input with TLS.',
  },
  {
    name: 'tls-verify',
    kind: 'boolean',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS_VERIFY',
    default: 'true',
    description: 'Verify the server certificate (--no-tls-verify to skip).',
  },
  {
    name: 'tls-ca-file',
    kind: 'file',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS_CA_FILE',
    metavar: 'FILE',
    description: 'CA certificates (PEM) to trust.',
  },
  {
    name: 'tls-cert-file',
    kind: 'file',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS_CERT_FILE',
    metavar: 'FILE',
    description: 'Client certificate (PEM), with --tls-key-file.',
  },
  {
    name: 'tls-key-file',
    kind: 'file',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS_KEY_FILE',
    metavar: 'FILE',
    description: 'Client private key (PEM).',
  },
  {
    name: 'tls-servername',
    kind: 'string',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_TLS_SERVERNAME',
    defaultText: 'the forward host',
    metavar: 'NAME',
    description: 'Server name for SNI and certificate checks.',
  },
  {
    name: 'shared-key',
    kind: 'secret',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_SHARED_KEY',
    fileVariant: true,
    metavar: 'KEY',
    description: 'shared_key of the forward input (handshake).',
  },
  {
    name: 'username',
    kind: 'string',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_USERNAME',
    metavar: 'USER',
    description: "User of the forward input's security.users (needs --shared-key and --password).",
  },
  {
    name: 'password',
    kind: 'secret',
    group: 'Fluent Bit',
    env: 'FLUENT_BIT_PASSWORD',
    fileVariant: true,
    metavar: 'PASSWORD',
    description: 'Password of --username.',
  },
  // Collection
  {
    name: 'state-dir',
    kind: 'path',
    group: 'Collection',
    env: 'JUMPCLOUD_STATE_DIR',
    default: './state',
    metavar: 'DIR',
    description: 'Where checkpoints and forwarded ids are kept (one file per org and service).',
  },
  {
    name: 'since',
    kind: 'since',
    group: 'Collection',
    env: 'JUMPCLOUD_SINCE',
    default: '1h',
    metavar: 'DURATION|DATE',
    description:
      'First start only: collect from this long ago or this date (2026-01-31, 2026-01-31T08:00:00Z); at most 90 days.',
  },
  {
    name: 'lag',
    kind: 'duration',
    group: 'Collection',
    env: 'JUMPCLOUD_LAG',
    default: '2m',
    metavar: 'DURATION',
    description: 'Collect only up to now − lag, leaving the API time to index.',
  },
  {
    name: 'overlap',
    kind: 'duration',
    group: 'Collection',
    env: 'JUMPCLOUD_OVERLAP',
    default: '1h',
    metavar: 'DURATION',
    description:
      'Trailing window checked on every poll for late-indexed events: counted per second, only what differs is ' +
      'fetched (deduplicated by id).',
  },
  {
    name: 'interval',
    kind: 'duration',
    group: 'Collection',
    env: 'JUMPCLOUD_INTERVAL',
    default: '1m',
    metavar: 'DURATION',
    description: 'Time between polls.',
  },
  {
    name: 'slices',
    kind: 'int',
    group: 'Collection',
    env: 'JUMPCLOUD_SLICES',
    default: '4',
    min: 1,
    max: 32,
    metavar: 'N',
    description: 'Backfill parallelism: time slices fetched at once.',
  },
  {
    name: 'max-seen-ids',
    kind: 'int',
    group: 'Collection',
    env: 'JUMPCLOUD_MAX_SEEN_IDS',
    default: '1000000',
    min: 1,
    max: 100_000_000,
    metavar: 'N',
    description: 'Bound on the forwarded ids remembered per org and service for deduplication.',
  },
  {
    name: 'once',
    kind: 'boolean',
    group: 'Collection',
    env: 'JUMPCLOUD_ONCE',
    default: 'false',
    description: 'One pass up to now − lag, wait for every ack, exit (0 all delivered, 1 not, 3 API refused).',
  },
  // Operation
  {
    name: 'config',
    kind: 'file',
    group: 'Operation',
    env: 'JUMPCLOUD_CONFIG',
    cliOnly: true,
    metavar: 'FILE',
    description:
      'JSON config file: an object whose keys are these option names (e.g. {"services": ["sso"], "lag": "5m"}).',
  },
  {
    name: 'metrics-port',
    kind: 'int',
    group: 'Operation',
    env: 'JUMPCLOUD_METRICS_PORT',
    defaultText: 'off',
    min: 0,
    max: 65_535,
    metavar: 'PORT',
    description: 'Serve /metrics (Prometheus) and /healthz on this port (0: any free port).',
  },
  {
    name: 'metrics-host',
    kind: 'string',
    group: 'Operation',
    env: 'JUMPCLOUD_METRICS_HOST',
    default: '127.0.0.1',
    metavar: 'HOST',
    description: 'Address of the metrics endpoint.',
  },
  {
    name: 'log-level',
    kind: 'level',
    group: 'Operation',
    env: 'JUMPCLOUD_LOG_LEVEL',
    default: 'info',
    metavar: LOG_LEVELS.join('|'),
    description: 'Level of the JSON logs on stderr.',
  },
  {
    name: 'demo-output',
    kind: 'path',
    group: 'Operation',
    env: 'JUMPCLOUD_DEMO_OUTPUT',
    defaultText: '<temp dir>/fluent-bit-jumpcloud-demo.ndjson',
    metavar: 'FILE',
    description:
      'Demo only, when no Fluent Bit listens at --forward: the NDJSON file every ECS document mapped in-process is ' +
      'written to (replaced at each start).',
  },
  {
    name: 'scenario',
    kind: 'file',
    group: 'Operation',
    env: 'JUMPCLOUD_DEMO_SCENARIO',
    metavar: 'FILE',
    description:
      'Demo only: a scenario (YAML, scenarios/README.md) the built-in simulator plays into its events, ending at ' +
      'the start, e.g. scenarios/password-spray.yaml; the demo lists its events as they are mapped.',
  },
  {
    name: 'print-config',
    kind: 'boolean',
    group: 'Operation',
    cliOnly: true,
    default: 'false',
    description: 'Print the resolved configuration (secrets redacted) as JSON and exit.',
  },
  {
    name: 'help',
    kind: 'boolean',
    group: 'Operation',
    cliOnly: true,
    default: 'false',
    description: 'Show this help and exit.',
  },
  {
    name: 'version',
    kind: 'boolean',
    group: 'Operation',
    cliOnly: true,
    default: 'false',
    description: 'Show the version and exit.',
  },
  // Testing
  {
    name: 'clock',
    kind: 'string',
    group: 'Testing',
    env: CLOCK_ENV,
    envOnly: true,
    cliOnly: true,
    metavar: 'SPEC',
    description: 'Testing only: an accelerated clock shared with the simulator, `<ISO time>@<real epoch ms>x<speed>`.',
  },
];

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
  /** --demo-output: where the demo's in-process mapping writes its documents (unset: the default temp file). */
  readonly demoOutput?: string;
  /** --scenario: a scenario file (validated) the demo's simulator plays. */
  readonly demoScenario?: string;
  readonly configFile?: string;
  readonly warnings: readonly string[];
  /** Where each option's value came from. */
  readonly sources: Readonly<Record<string, SourceKind>>;
}

export type LoadResult = LoadedConfig | { readonly kind: 'help' } | { readonly kind: 'version' };

// ---------------------------------------------------------------- load

/** One validator per option group: it reads only its group's options (help, version and config are read first). */
const VALIDATORS = {
  'JumpCloud API': apiSettings,
  'Fluent Bit': fluentBitSettings,
  Collection: collectionSettings,
  Operation: operationSettings,
  Testing: testingSettings,
} satisfies Record<Group, (s: Settings) => unknown>;

type GroupSettings = { [G in Group]: ReturnType<(typeof VALIDATORS)[G]> };

/**
 * Resolves argv, environment and the optional config file into a validated configuration.
 * Throws ConfigError (exit code 2) with a message that names the setting and its source.
 */
export function loadConfig(input: LoadInput): LoadResult {
  const settings = readSettings(OPTIONS, {
    argv: input.argv,
    env: input.env,
    now: input.now,
    cwd: input.cwd ?? process.cwd(),
  });
  if (settings.kind !== 'settings') return settings;
  const groups = {} as Record<Group, unknown>;
  for (const group of GROUPS) groups[group] = VALIDATORS[group](settings.forGroup(group));
  const {
    'JumpCloud API': api,
    'Fluent Bit': fb,
    Collection: collection,
    Operation: operation,
    Testing: testing,
  } = groups as GroupSettings;
  if (operation.scenario !== undefined && !api.demo) {
    throw new ConfigError(
      "--scenario plays into the built-in demo's simulator: unset the credentials and --api-url to " +
        'run the demo, or run `fluent-bit-jumpcloud simulate --scenario FILE` and point --api-url at it',
      'scenario',
    );
  }
  const config: DraftConfig = {
    apiUrl: api.apiUrl,
    ...(api.auth ? { auth: api.auth } : {}),
    orgIds: api.orgIds,
    services: api.services,
    servicesCheckMs: api.servicesCheckMs,
    pageLimit: api.pageLimit,
    maxRequestsPerSecond: api.maxRequestsPerSecond,
    ...(api.shard ? { shard: api.shard } : {}),
    orgBatchSize: api.orgBatchSize,
    ...(api.providerId !== undefined ? { providerId: api.providerId } : {}),
    requestTimeoutMs: api.requestTimeoutMs,
    forward: fb.forward,
    ackSettleMs: fb.ackSettleMs,
    ...(fb.fluentBitHttp ? { fluentBitHttp: fb.fluentBitHttp, fluentBitInput: fb.fluentBitInput } : {}),
    ...(fb.deliveryTimeoutMs > 0 ? { deliveryTimeoutMs: fb.deliveryTimeoutMs } : {}),
    ...(fb.tls ? { tls: fb.tls } : {}),
    ...(fb.sharedKey !== undefined ? { sharedKey: fb.sharedKey } : {}),
    ...(fb.username !== undefined ? { username: fb.username } : {}),
    ...(fb.password !== undefined ? { password: fb.password } : {}),
    tag: fb.tag,
    ...collection,
    ...(operation.metrics ? { metrics: operation.metrics } : {}),
  };
  return {
    kind: 'run',
    config,
    demo: api.demo,
    region: api.region,
    logLevel: operation.logLevel,
    printConfig: operation.printConfig,
    ...(testing.clockSpec !== undefined ? { clockSpec: testing.clockSpec } : {}),
    ...(operation.demoOutput !== undefined ? { demoOutput: operation.demoOutput } : {}),
    ...(operation.scenario !== undefined ? { demoScenario: operation.scenario } : {}),
    ...(settings.configFile !== undefined ? { configFile: settings.configFile } : {}),
    warnings: settings.warnings,
    sources: settings.sources,
  };
}

// ---------------------------------------------------------------- printing

/** The config with every secret replaced, for logs and --print-config. */
export function redactConfig(config: DraftConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  if (config.auth?.kind === 'apiKey') out.auth = { kind: 'apiKey', apiKey: REDACTED };
  if (config.auth?.kind === 'oauth') out.auth = { ...config.auth, clientSecret: REDACTED };
  for (const key of ['sharedKey', 'password'] as const) if (config[key] !== undefined) out[key] = REDACTED;
  // The orgs this shard collects: what an operator compares before changing N (docs/operations.md: Sharding).
  if (config.shard) out.shardOrgIds = orgsOfShard(config.orgIds, config.shard);
  // Human forms replace the millisecond fields.
  out.since = new Date(config.sinceMs).toISOString();
  delete out.sinceMs;
  delete out.sinceGiven;
  for (const key of [
    'lagMs',
    'overlapMs',
    'intervalMs',
    'requestTimeoutMs',
    'ackSettleMs',
    'deliveryTimeoutMs',
    'servicesCheckMs',
  ] as const) {
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

/** --help text, generated from OPTIONS. */
export function renderHelp(version: string): string {
  const lines: string[] = [
    `fluent-bit-jumpcloud ${version}: JumpCloud Directory Insights events into Fluent Bit, each exactly once.`,
    '',
    'Usage: fluent-bit-jumpcloud [options]',
    '       fluent-bit-jumpcloud simulate [options]    run the Directory Insights simulator (see simulate --help)',
    '       fluent-bit-jumpcloud fluent-bit-command    ' +
      "print a command that starts Fluent Bit with this install's pipeline",
    '',
    'Without an API key or service account it runs a built-in demo against the simulator: ' +
      'it forwards to the Fluent Bit',
    'at --forward when one listens, otherwise maps the events to ECS in-process and shows them.',
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
    '  fluent-bit-jumpcloud --api-key-file jc.key --org-ids ORG1,ORG2,ORG3 --shard 0/3 --state-dir state-0' +
      '   # shard 0 of 3',
    '  fluent-bit-jumpcloud --client-id ID --client-secret-file s.txt --org-ids ORG1,ORG2 --region eu',
  );
  lines.push(
    '',
    'Exit codes: 0 ok, 1 events not delivered (--once), 2 configuration error, 3 the API refused (bad key, DI not ' +
      'licensed, missing org id).',
  );
  return `${lines.join('\n')}\n`;
}

/** The README configuration table (markdown), generated from OPTIONS. */
export function renderMarkdownTable(): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = ['| Option | Environment | Default | Description |', '| --- | --- | --- | --- |'];
  for (const o of OPTIONS) {
    if (o.name === 'help' || o.name === 'version') continue;
    const flagCell = o.envOnly
      ? ''
      : `\`--${o.name}${o.metavar ? ` ${o.metavar}` : ''}\`${o.fileVariant ? `<br>\`--${o.name}-file FILE\`` : ''}`;
    const envCell = envShown(o)
      .map((e) => `\`${e}\``)
      .join('<br>');
    const def = defaultShown(o);
    // Literal defaults as code, descriptions of a default (from --region, off) as text.
    const defCell = !def ? '' : o.defaultText !== undefined ? esc(o.defaultText) : `\`${esc(def)}\``;
    rows.push(`| ${esc(flagCell)} | ${envCell} | ${defCell} | ${esc(o.description)} |`);
  }
  return `${rows.join('\n')}\n`;
}
