// Standalone Directory Insights simulator: `node --import tsx input/simulator/main.ts --port 8080`, or
// `fluent-bit-jumpcloud simulate …`. Runs until SIGINT/SIGTERM; prints where it listens and how to use it.
// --print writes a scenario's events and exits; --list-types writes the catalog and exits.
import { pathToFileURL } from 'node:url';
import { ArgvError, closest, parseArgv } from '../argv.js';
import { parseClockSpec, systemClock } from '../clock.js';
import { CLOCK_ENV } from '../config.js';
import { parseDuration, parseSince } from '../duration.js';
import type { Clock } from '../types.js';
import { CATALOG } from './catalog.js';
import { GENERATED_SERVICES } from './events.js';
import { FAULT_KINDS, isFaultKind, type FaultKind } from './faults.js';
import { ScenarioError } from './scenario/events.js';
import {
  injectedEvents,
  SEARCH_TERM_MODES,
  startSimulator,
  type SearchTermMode,
  type SimulatorOptions,
} from './server.js';

const PROGRAM = 'fluent-bit-jumpcloud simulate';

const OPTIONS: Record<string, { kind: 'value' | 'boolean'; help: string }> = {
  port: { kind: 'value', help: 'TCP port (default 8080; 0 picks a free one)' },
  host: { kind: 'value', help: 'address to listen on (default 127.0.0.1)' },
  seed: { kind: 'value', help: 'seed of the generated events, scenarios and faults (default 1)' },
  orgs: { kind: 'value', help: 'org ids, comma-separated; x-org-id is then required (default: one org, no header)' },
  providers: { kind: 'value', help: 'provider (MSP) ids: their Multi-Tenant-Portal events answer x-provider-id' },
  services: { kind: 'value', help: `services with events (default all ${GENERATED_SERVICES.length} of the catalog)` },
  'hidden-from-all': { kind: 'value', help: 'services that service ["all"] leaves out (still served when named)' },
  'search-term': { kind: 'value', help: 'what search_term does: apply (default), ignore, refuse (400), fail (500)' },
  rate: { kind: 'value', help: 'events per minute per org and service (default 60)' },
  from: { kind: 'value', help: 'first event: a duration ago (2h, 30d) or an RFC 3339 time (default 1h)' },
  to: { kind: 'value', help: 'last event: RFC 3339 time, or "live" to keep generating (default live)' },
  scenario: { kind: 'value', help: 'scenario files (YAML) to inject, comma-separated (scenarios/README.md)' },
  'scenario-start': { kind: 'value', help: 'when scenarios start: a duration ago or an RFC 3339 time (default now)' },
  'scenario-org': { kind: 'value', help: 'the org whose stream carries the scenarios (default the first of --orgs)' },
  print: { kind: 'boolean', help: "print the scenarios' events (NDJSON, exactly as served) and exit" },
  'list-types': { kind: 'boolean', help: 'print the event catalog (type, service, family, weights) and exit' },
  'api-key': { kind: 'value', help: 'accepted x-api-key values, comma-separated (default sim-api-key)' },
  'oauth-client': { kind: 'value', help: 'accepted service account as CLIENT_ID:CLIENT_SECRET (POST /oauth2/token)' },
  'token-ttl': { kind: 'value', help: 'OAuth token lifetime (default 1h)' },
  'unlicensed-orgs': { kind: 'value', help: 'orgs answered with 402 (Directory Insights not enabled)' },
  'fault-rate': { kind: 'value', help: 'probability of an injected fault per request, 0..1 (default 0)' },
  'fault-kinds': { kind: 'value', help: `kinds of injected faults (default all: ${FAULT_KINDS.join(',')})` },
  'page-latency': { kind: 'value', help: 'delay before each /events answer, e.g. 200ms (default 0)' },
  'max-index-delay': { kind: 'value', help: 'latest indexing delay of an event (default 30m; 0: visible at once)' },
  'late-fraction': { kind: 'value', help: 'fraction of events indexed late (default 0.02)' },
  'retention-days': { kind: 'value', help: 'history kept (default 90)' },
  clock: { kind: 'value', help: `accelerated clock spec <ISO>@<epoch ms>x<speed> (tests; also env ${CLOCK_ENV})` },
  help: { kind: 'boolean', help: 'show this help' },
};

export function simulatorUsage(): string {
  const lines = Object.entries(OPTIONS).map(
    ([name, o]) => `  --${(name + (o.kind === 'value' ? ' VALUE' : '')).padEnd(24)} ${o.help}`,
  );
  return [
    'Usage: fluent-bit-jumpcloud simulate [options]',
    '',
    'A JumpCloud Directory Insights API simulator on loopback: POST /insights/directory/v1/events, /events/count and',
    '/events/distinct and /events/interval, with search_term filters, paging headers, limits, error bodies, late',
    'indexing and optional injected faults; every event type of the API description (--list-types), x-provider-id',
    'with --providers, scripted scenarios with --scenario (--print shows their events without serving).',
    '',
    ...lines,
    '',
  ].join('\n');
}

export interface SimulatorArgs {
  readonly options: SimulatorOptions;
  readonly help: boolean;
  readonly print: boolean;
  readonly listTypes: boolean;
}

/** Reads flag values: the last of each, or all of a list flag (repeated and comma-separated). */
class Flags {
  constructor(private readonly flags: readonly { name: string; value: string | boolean }[]) {}

  str(n: string): string | undefined {
    const v = this.flags.filter((f) => f.name === n).at(-1)?.value;
    return typeof v === 'string' ? v : undefined;
  }

  bool(n: string): boolean {
    return this.flags.some((f) => f.name === n && f.value === true);
  }

  list(n: string): string[] | undefined {
    const vs = this.flags.filter((f) => f.name === n && typeof f.value === 'string');
    if (vs.length === 0) return undefined;
    return vs
      .flatMap((f) => String(f.value).split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  num(n: string, min: number, max: number): number | undefined {
    const s = this.str(n);
    if (s === undefined) return undefined;
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x) || x < min || x > max) {
      throw new ArgvError(`--${n} "${s}" must be a number from ${min} to ${max}`, `--${n}`);
    }
    return x;
  }

  /** A value parsed by `parse`, its error message prefixed with the flag. */
  parsed<T>(n: string, parse: (s: string) => T): T | undefined {
    const s = this.str(n);
    if (s === undefined) return undefined;
    try {
      return parse(s);
    } catch (err) {
      throw new ArgvError(`--${n}: ${(err as Error).message}`, `--${n}`);
    }
  }
}

/** Parses simulator flags into options; throws ArgvError naming the bad flag. */
export function parseSimulatorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SimulatorArgs {
  const parsed = parseArgv(
    argv,
    (n) => OPTIONS[n]?.kind,
    (n) => closest(n, Object.keys(OPTIONS)),
  );
  if (parsed.positionals.length > 0) throw new ArgvError(`unexpected argument "${parsed.positionals[0]}"`);
  const f = new Flags(parsed.flags);
  const clockSpec = f.str('clock') ?? env[CLOCK_ENV];
  let clock: Clock = systemClock;
  if (clockSpec) {
    try {
      clock = parseClockSpec(clockSpec);
    } catch (err) {
      throw new ArgvError(`--clock: ${(err as Error).message}`, '--clock');
    }
  }
  const options: SimulatorOptions = {
    port: f.num('port', 0, 65535) ?? 8080,
    host: f.str('host'),
    seed: f.num('seed', 0, 2 ** 32 - 1),
    orgs: f.list('orgs'),
    providers: f.list('providers'),
    services: f.list('services'),
    hiddenFromAll: f.list('hidden-from-all'),
    ...searchTermOf(f),
    eventsPerMinute: f.num('rate', 0, 1e7),
    from: f.parsed('from', (s) => parseSince(s, clock.now()).ms),
    to: f.str('to') ?? 'live',
    apiKeys: f.list('api-key'),
    oauthClients: oauthClientOf(f),
    unlicensedOrgs: f.list('unlicensed-orgs'),
    tokenTtlSec: f.parsed('token-ttl', (s) => parseDuration(s) / 1000),
    faults: faultsOf(f),
    pageLatencyMs: f.parsed('page-latency', parseDuration),
    indexDelay: indexDelayOf(f),
    retentionDays: f.num('retention-days', 1, 3650),
    clock,
    ...scenariosOf(f, clock),
  };
  return { options, help: f.bool('help'), print: f.bool('print'), listTypes: f.bool('list-types') };
}

function searchTermOf(f: Flags): Pick<SimulatorOptions, 'searchTerm'> {
  const mode = f.str('search-term');
  if (mode === undefined) return {};
  if (!(SEARCH_TERM_MODES as readonly string[]).includes(mode)) {
    throw new ArgvError(`--search-term "${mode}": use apply, ignore, refuse or fail`, '--search-term');
  }
  return { searchTerm: mode as SearchTermMode };
}

function oauthClientOf(f: Flags): SimulatorOptions['oauthClients'] {
  const client = f.str('oauth-client');
  if (client === undefined) return undefined;
  if (!/^[^:]+:.+$/.test(client)) {
    throw new ArgvError('--oauth-client must be CLIENT_ID:CLIENT_SECRET', '--oauth-client');
  }
  const sep = client.indexOf(':');
  return [{ clientId: client.slice(0, sep), clientSecret: client.slice(sep + 1) }];
}

function faultsOf(f: Flags): SimulatorOptions['faults'] {
  const kinds = f.list('fault-kinds');
  for (const k of kinds ?? []) {
    if (!isFaultKind(k)) {
      throw new ArgvError(`--fault-kinds: unknown kind "${k}"; use ${FAULT_KINDS.join(', ')}`, '--fault-kinds');
    }
  }
  return { rate: f.num('fault-rate', 0, 1) ?? 0, kinds: kinds as FaultKind[] | undefined };
}

function indexDelayOf(f: Flags): SimulatorOptions['indexDelay'] {
  const maxIndexDelay = f.parsed('max-index-delay', parseDuration);
  const lateFraction = f.num('late-fraction', 0, 1);
  return {
    ...(maxIndexDelay !== undefined ? { maxMs: maxIndexDelay, typicalMaxMs: Math.min(5_000, maxIndexDelay) } : {}),
    ...(lateFraction !== undefined ? { lateFraction } : {}),
  };
}

function scenariosOf(f: Flags, clock: Clock): Pick<SimulatorOptions, 'scenarios'> {
  const files = f.list('scenario');
  const start = f.parsed('scenario-start', (s) => parseSince(s, clock.now()).ms);
  const orgId = f.str('scenario-org');
  if (!files) {
    if (start !== undefined || orgId !== undefined) {
      throw new ArgvError('--scenario-start and --scenario-org need --scenario FILE');
    }
    return {};
  }
  const where = { ...(start !== undefined ? { start } : {}), ...(orgId ? { orgId } : {}) };
  return { scenarios: files.map((scenario) => ({ scenario, ...where })) };
}

/** The `simulate` command: starts the simulator and resolves with the exit code once SIGINT/SIGTERM stops it. */
export async function runSimulatorCli(
  argv: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let parsed: SimulatorArgs;
  try {
    parsed = parseSimulatorArgs(argv);
    if (parsed.print && !parsed.options.scenarios) {
      throw new ArgvError('--print prints the events of --scenario FILE: give one');
    }
  } catch (err) {
    process.stderr.write(`${PROGRAM}: ${(err as Error).message}\nRun with --help to see every option.\n`);
    return 2;
  }
  if (parsed.help) return write(out, simulatorUsage());
  if (parsed.listTypes) return write(out, catalogTable());
  if (parsed.print) return printScenarios(parsed.options, out);
  let sim;
  try {
    sim = await startSimulator(parsed.options);
  } catch (err) {
    const bad = err instanceof ScenarioError;
    process.stderr.write(`${PROGRAM}: ${bad ? 'bad scenario' : 'cannot start'}: ${(err as Error).message}\n`);
    return bad ? 2 : 1;
  }
  out.write(banner(parsed.options, sim));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  out.write(`simulator stopped: ${JSON.stringify(sim.stats)}\n`);
  return 0;
}

function write(out: NodeJS.WritableStream, text: string): number {
  out.write(text);
  return 0;
}

function banner(o: SimulatorOptions, sim: Awaited<ReturnType<typeof startSimulator>>): string {
  const since = new Date((o.clock ?? systemClock).now() - 600_000).toISOString();
  const body = `{"service":["all"],"start_time":"${since}","limit":2}`;
  const ev = sim.scenarioEvents;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const scripted =
    ev.length === 0 ? [] : [`  scenarios: ${ev.length} events, ${iso(ev[0]!.ms)} to ${iso(ev.at(-1)!.ms)}`];
  const headers = `-H 'x-api-key: ${sim.apiKey}' -H 'content-type: application/json'`;
  return [
    `Directory Insights simulator listening at ${sim.url}`,
    `  API key: ${sim.apiKey}${o.oauthClients ? `; OAuth token URL: ${sim.tokenUrl}` : ''}`,
    `  orgs: ${o.orgs?.join(',') || '(single org, no x-org-id)'}; ` +
      `${o.eventsPerMinute ?? 60} events/min per org and service`,
    ...(o.providers?.length ? [`  providers (x-provider-id): ${o.providers.join(',')}`] : []),
    ...scripted,
    `  try: curl -s -X POST ${headers} --data '${body}' -D - ${sim.url}/events`,
    '',
  ].join('\n');
}

/** --print: the scenarios' events, one JSON object a line, exactly as the simulator would serve them. */
function printScenarios(o: SimulatorOptions, out: NodeJS.WritableStream): number {
  try {
    for (const e of injectedEvents(o, (o.clock ?? systemClock).now())) out.write(`${e.event}\n`);
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    process.stderr.write(`${PROGRAM}: bad scenario: ${err.message}\n`);
    return 2;
  }
  return 0;
}

function catalogTable(): string {
  const widths = [56, 20, 20];
  const row = (...cells: (string | number)[]): string =>
    cells.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' ');
  const rows = CATALOG.map((e) => row(e.type, e.service, e.family, e.weight, e.providerWeight));
  return `${[row('type', 'service', 'family', 'weight', 'provider-weight'), ...rows].join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSimulatorCli(process.argv.slice(2)).then((code) => process.exit(code));
}
