// Standalone Directory Insights simulator: `node --import tsx input/simulator/main.ts --port 8080`, or
// `fluent-bit-jumpcloud simulate …`. Runs until SIGINT/SIGTERM; prints where it listens and how to use it.
import { pathToFileURL } from 'node:url';
import { ArgvError, closest, parseArgv } from '../argv.js';
import { parseClockSpec, systemClock } from '../clock.js';
import { CLOCK_ENV } from '../config.js';
import { parseDuration, parseSince } from '../duration.js';
import type { Clock } from '../types.js';
import { GENERATED_SERVICES } from './events.js';
import { FAULT_KINDS, isFaultKind, type FaultKind } from './faults.js';
import { SEARCH_TERM_MODES, startSimulator, type SearchTermMode, type SimulatorOptions } from './server.js';

const OPTIONS: Record<string, { kind: 'value' | 'boolean'; help: string }> = {
  port: { kind: 'value', help: 'TCP port (default 8080; 0 picks a free one)' },
  host: { kind: 'value', help: 'address to listen on (default 127.0.0.1)' },
  seed: { kind: 'value', help: 'seed of the generated events and faults (default 1)' },
  orgs: { kind: 'value', help: 'org ids, comma-separated; x-org-id is then required (default: one org, no header)' },
  services: { kind: 'value', help: `services with events (default ${GENERATED_SERVICES.join(',')})` },
  'hidden-from-all': { kind: 'value', help: 'services that service ["all"] leaves out (still served when named), e.g. password_manager' },
  'search-term': { kind: 'value', help: 'what search_term does: apply (default, as documented), ignore (as if absent), refuse (400), fail (500)' },
  rate: { kind: 'value', help: 'events per minute per org and service (default 60)' },
  from: { kind: 'value', help: 'first event: a duration ago (2h, 30d) or an RFC 3339 time (default 1h)' },
  to: { kind: 'value', help: 'last event: RFC 3339 time, or "live" to keep generating (default live)' },
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
  const lines = Object.entries(OPTIONS).map(([name, o]) => `  --${(name + (o.kind === 'value' ? ' VALUE' : '')).padEnd(24)} ${o.help}`);
  return [
    'Usage: fluent-bit-jumpcloud simulate [options]',
    '',
    'A JumpCloud Directory Insights API simulator on loopback: POST /insights/directory/v1/events, /events/count and',
    '/events/distinct and /events/interval, with search_term filters, paging headers, limits, error bodies, late',
    'indexing and optional injected faults; --hidden-from-all makes services invisible to service ["all"].',
    '',
    ...lines,
    '',
  ].join('\n');
}

/** Parses simulator flags into options; throws ArgvError naming the bad flag. */
export function parseSimulatorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { options: SimulatorOptions; help: boolean } {
  const parsed = parseArgv(argv, (n) => OPTIONS[n]?.kind, (n) => closest(n, Object.keys(OPTIONS)));
  if (parsed.positionals.length > 0) throw new ArgvError(`unexpected argument "${parsed.positionals[0]}"`);
  const v = new Map(parsed.flags.map((f) => [f.name, f.value]));
  const str = (n: string): string | undefined => (typeof v.get(n) === 'string' ? (v.get(n) as string) : undefined);
  const list = (n: string): string[] | undefined => str(n)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const num = (n: string, min: number, max: number): number | undefined => {
    const s = str(n);
    if (s === undefined) return undefined;
    const x = Number(s);
    if (s.trim() === '' || !Number.isFinite(x) || x < min || x > max) throw new ArgvError(`--${n} "${s}" must be a number from ${min} to ${max}`, `--${n}`);
    return x;
  };
  const dur = (n: string): number | undefined => {
    const s = str(n);
    if (s === undefined) return undefined;
    try {
      return parseDuration(s);
    } catch (err) {
      throw new ArgvError(`--${n}: ${(err as Error).message}`, `--${n}`);
    }
  };
  const clockSpec = str('clock') ?? env[CLOCK_ENV];
  let clock: Clock = systemClock;
  if (clockSpec) {
    try {
      clock = parseClockSpec(clockSpec);
    } catch (err) {
      throw new ArgvError(`--clock: ${(err as Error).message}`, '--clock');
    }
  }
  let from: number | undefined;
  if (str('from') !== undefined) {
    try {
      from = parseSince(str('from')!, clock.now()).ms;
    } catch (err) {
      throw new ArgvError(`--from: ${(err as Error).message}`, '--from');
    }
  }
  const to = str('to');
  const kinds = list('fault-kinds');
  for (const k of kinds ?? []) if (!isFaultKind(k)) throw new ArgvError(`--fault-kinds: unknown kind "${k}"; use ${FAULT_KINDS.join(', ')}`, '--fault-kinds');
  const client = str('oauth-client');
  if (client !== undefined && !/^[^:]+:.+$/.test(client)) throw new ArgvError('--oauth-client must be CLIENT_ID:CLIENT_SECRET', '--oauth-client');
  const sep = client?.indexOf(':') ?? -1;
  const maxIndexDelay = dur('max-index-delay');
  const lateFraction = num('late-fraction', 0, 1);
  const tokenTtl = dur('token-ttl');
  const searchTerm = str('search-term');
  if (searchTerm !== undefined && !(SEARCH_TERM_MODES as readonly string[]).includes(searchTerm)) {
    throw new ArgvError(`--search-term "${searchTerm}": use apply, ignore, refuse or fail`, '--search-term');
  }
  const options: SimulatorOptions = {
    port: num('port', 0, 65535) ?? 8080,
    host: str('host'),
    seed: num('seed', 0, 2 ** 32 - 1),
    orgs: list('orgs'),
    services: list('services'),
    hiddenFromAll: list('hidden-from-all'),
    ...(searchTerm !== undefined ? { searchTerm: searchTerm as SearchTermMode } : {}),
    eventsPerMinute: num('rate', 0, 1e7),
    from,
    to: to === undefined || to === 'live' ? 'live' : to,
    apiKeys: list('api-key'),
    oauthClients: client ? [{ clientId: client.slice(0, sep), clientSecret: client.slice(sep + 1) }] : undefined,
    tokenTtlSec: tokenTtl === undefined ? undefined : tokenTtl / 1000,
    unlicensedOrgs: list('unlicensed-orgs'),
    faults: { rate: num('fault-rate', 0, 1) ?? 0, kinds: kinds as FaultKind[] | undefined },
    pageLatencyMs: dur('page-latency'),
    indexDelay: {
      ...(maxIndexDelay !== undefined ? { maxMs: maxIndexDelay, typicalMaxMs: Math.min(5_000, maxIndexDelay) } : {}),
      ...(lateFraction !== undefined ? { lateFraction } : {}),
    },
    retentionDays: num('retention-days', 1, 3650),
    clock,
  };
  return { options, help: v.get('help') === true };
}

/** The `simulate` command: starts the simulator and resolves with the exit code once SIGINT/SIGTERM stops it. */
export async function runSimulatorCli(argv: readonly string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  let parsed: ReturnType<typeof parseSimulatorArgs>;
  try {
    parsed = parseSimulatorArgs(argv);
  } catch (err) {
    process.stderr.write(`fluent-bit-jumpcloud simulate: ${(err as Error).message}\nRun with --help to see every option.\n`);
    return 2;
  }
  if (parsed.help) {
    out.write(simulatorUsage());
    return 0;
  }
  let sim;
  try {
    sim = await startSimulator(parsed.options);
  } catch (err) {
    process.stderr.write(`fluent-bit-jumpcloud simulate: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const o = parsed.options;
  out.write(
    [
      `Directory Insights simulator listening at ${sim.url}`,
      `  API key: ${sim.apiKey}${o.oauthClients ? `; OAuth token URL: ${sim.tokenUrl}` : ''}`,
      `  orgs: ${o.orgs?.join(',') || '(single org, no x-org-id)'}; ${o.eventsPerMinute ?? 60} events/min per org and service`,
      `  try: curl -s -X POST -H 'x-api-key: ${sim.apiKey}' -H 'content-type: application/json' --data '{"service":["all"],"start_time":"${new Date(Date.now() - 600_000).toISOString()}","limit":2}' -D - ${sim.url}/events`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  out.write(`simulator stopped: ${JSON.stringify(sim.stats)}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSimulatorCli(process.argv.slice(2)).then((code) => process.exit(code));
}
