// The built-in demo: with no JumpCloud credentials, the CLI starts the Directory Insights simulator in-process
// (live events on the same clock) and collects from it. When a Fluent Bit listens at --forward it forwards there;
// otherwise it maps the events itself with build/jumpcloud.wasm (the ABI Fluent Bit's wasm filter uses) and
// shows the ECS documents, so a first run sees the whole job. Its state is temporary unless --state-dir is given.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTarget, type DraftConfig } from './config.js';
import { createEcsView, type EcsView } from './demo/ecs-view.js';
import { scenarioMark, scenarioNotes, scenarioRun } from './demo/scenario.js';
import { createLocalFilter, type LocalFilter } from './demo/local-filter.js';
import { isNameResolutionError, unresolvedMessage } from './forward/connect.js';
import { fluentBitCommand } from './fluent-bit-command.js';
import type { EngineTuning } from './collector/engine/run.js';
import type { Scenario } from './simulator/scenario/events.js';
import type { Simulator } from './simulator/server.js';
import type { Clock, CollectorConfig, ForwardClient, ForwardTarget, Logger } from './types.js';
import { WASM_PATH } from './wasm/filter-host.js';

/**
 * After a stop, what the demo gives Fluent Bit to ack what is in flight: the demo keeps nothing, so it need not wait.
 */
const DEMO_CLOSE_TIMEOUT_MS = 1500;
/** The demo's --lag and --interval when not given. */
const DEMO_LAG_MS = 5_000;
const DEMO_INTERVAL_MS = 5_000;
/** The demo's --page-limit when not given: small pages show the first documents sooner (a backfill streams in). */
const DEMO_PAGE_LIMIT = 250;

export interface Demo {
  readonly config: CollectorConfig;
  /** The in-process mapping when no Fluent Bit listens (the collector sends to it instead of a socket). */
  readonly forwardClient?: ForwardClient;
  readonly tuning: Partial<EngineTuning>;
  /** The demo's state directory is temporary (removed at the end): nothing unacknowledged is sent again later. */
  readonly temporaryState: boolean;
  /** What an exit code means for this demo run (the collector's wording assumes persistent state). */
  exitMeaning(code: number): string | undefined;
  stop(): Promise<void>;
  /** Removes the temporary state now, synchronously: for an exit that cannot wait (second signal). Idempotent. */
  cleanupSync(): void;
}

/** True when something accepts connections at the target within `timeoutMs`. */
function probeForward(target: ForwardTarget, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Mapping in-process, there is no Fluent Bit whose HTTP server could tell what it stored. */
function withoutFluentBitHttp(config: CollectorConfig): CollectorConfig {
  const { fluentBitHttp: _http, fluentBitInput: _input, ...rest } = config;
  return rest;
}

/** How to start a Fluent Bit that the demo forwards to (a command that works as printed for this install). */
function fluentBitHint(target: ForwardTarget): string {
  const lines =
    target.kind === 'tcp'
      ? [
          'To see the same through a real Fluent Bit (4.2+), start one with the shipped pipeline of this install:',
          `    ${fluentBitCommand({ forward: target })}`,
        ]
      : [
          `The shipped pipeline listens on TCP; for ${formatTarget(target)} give Fluent Bit's forward input ` +
            `unix_path=${target.path}.`,
        ];
  return [
    ...lines,
    'and start the demo again: it forwards to a Fluent Bit that listens on --forward (env FLUENT_BIT_FORWARD).',
    '',
  ].join('\n');
}

/** The lookup error code when `host` does not resolve, else undefined. */
async function unresolvable(host: string): Promise<string | undefined> {
  try {
    await lookup(host);
    return undefined;
  } catch (err) {
    return isNameResolutionError(err) ? ((err as NodeJS.ErrnoException).code ?? 'ENOTFOUND') : undefined;
  }
}

export interface DemoOptions {
  readonly config: DraftConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** --state-dir was given: keep the demo's state there; otherwise a temporary directory, removed at the end. */
  readonly explicitStateDir: boolean;
  /** Where the plain-text notes go (default stderr). */
  readonly out?: { write(text: string): unknown };
  /** Where the documents are shown (default stdout): compact lines on a TTY, the NDJSON itself otherwise. */
  readonly docs?: { isTTY?: boolean; write(text: string): unknown };
  /** The NDJSON file of the mapped documents (--demo-output; default in the temp directory, replaced each start). */
  readonly ndjsonPath?: string;
  /** Options left at their defaults: the demo polls faster, in smaller pages, than production when they are unset. */
  readonly defaults?: { readonly lag: boolean; readonly interval: boolean; readonly pageLimit: boolean };
  /** --scenario: a scenario file the simulator plays, ending as the demo starts. */
  readonly scenario?: string;
}

/** How the documents of a --scenario's events are marked in the view (undefined: not one of them). */
type Mark = (docText: string) => string | undefined;

/** The simulator the demo collects from, a --scenario played into it, and how the scenario's documents are marked. */
async function startDemoSimulator(options: DemoOptions): Promise<{
  readonly sim: Simulator;
  readonly scenario?: Scenario;
  readonly mark?: Mark;
}> {
  const { clock, logger } = options;
  const { startSimulator } = await import('./simulator/server.js');
  const { loadScenario } = await import('./simulator/scenario/events.js');
  const scenario = options.scenario !== undefined ? loadScenario(options.scenario) : undefined;
  const orgs = options.config.orgIds.length > 0 ? options.config.orgIds : [''];
  const sim = await startSimulator({
    clock,
    logger,
    orgs,
    // Generated history reaches back to --since, so the demo shows a backfill, then live polling.
    from: Math.min(options.config.sinceMs, clock.now() - 60_000),
    to: 'live',
    ...(scenario ? { scenarios: [scenarioRun(scenario, orgs[0]!, clock.now(), options.config.sinceMs)] } : {}),
  });
  if (!scenario) return { sim };
  return { sim, scenario, mark: scenarioMark(scenario, sim.scenarioEvents) };
}

/** The collector's configuration for the demo: the simulator's API, the demo's state and its faster defaults. */
function demoConfig(options: DemoOptions, sim: Simulator, tempState: string | undefined): CollectorConfig {
  return {
    ...options.config,
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    stateDir: tempState ?? options.config.stateDir,
    // A live view: the simulator indexes most events within 5 s (late ones are caught by --overlap), so the
    // production defaults (2m lag, 1m interval) would only delay what the demo shows.
    ...(options.defaults?.lag ? { lagMs: DEMO_LAG_MS } : {}),
    ...(options.defaults?.interval ? { intervalMs: DEMO_INTERVAL_MS } : {}),
    ...(options.defaults?.pageLimit ? { pageLimit: DEMO_PAGE_LIMIT } : {}),
  };
}

/** What the demo says first: where its events come from, where its state is kept, how to collect for real. */
function introNotes(sim: Simulator, config: CollectorConfig, tempState: string | undefined): string {
  return [
    '',
    'fluent-bit-jumpcloud demo: no JumpCloud credentials were given, so events come from the built-in ' +
      'Directory Insights',
    `simulator at ${sim.url} (live, about one event per second per service).`,
    tempState
      ? `Demo state is temporary (${tempState}): it is removed when the demo stops, and nothing is kept for a ` +
        'next run.'
      : `Demo state is kept in ${config.stateDir} (--state-dir): a next run resumes from it.`,
    'To collect for real: JUMPCLOUD_API_KEY=... (or --api-key-file FILE, or --client-id/--client-secret with ' +
      '--org-ids).',
    '',
  ].join('\n');
}

/** Where the demo's events go: to a Fluent Bit listening at --forward, else mapped in-process (`local`). */
async function demoOutput(
  options: DemoOptions,
  config: CollectorConfig,
  mark: Mark | undefined,
): Promise<{ readonly local?: LocalFilter; readonly view?: EcsView }> {
  const { logger } = options;
  const out = options.out ?? process.stderr;
  const listening = await probeForward(config.forward);
  const unresolvedCode =
    !listening && config.forward.kind === 'tcp' && isIP(config.forward.host) === 0
      ? await unresolvable(config.forward.host)
      : undefined;
  if (listening) {
    out.write(
      `A Fluent Bit is listening on ${formatTarget(config.forward)}: the demo forwards the raw events there; ` +
        'Fluent Bit maps them to ECS.\n\n',
    );
    logger.info({ forward: formatTarget(config.forward) }, 'demo: Fluent Bit is listening; forwarding there');
    return {};
  }
  if (unresolvedCode !== undefined && config.forward.kind === 'tcp') {
    // A name that does not resolve is a typo in --forward, not a Fluent Bit to start.
    out.write(`${unresolvedMessage(config.forward.host, unresolvedCode)}\n`);
    logger.warn({ forward: formatTarget(config.forward) }, 'demo: the host of --forward does not resolve; retrying');
    return {};
  }
  return mapInProcess(options, config, mark);
}

/** No Fluent Bit listens: the demo maps the events with the filter itself and shows the ECS documents. */
function mapInProcess(
  options: DemoOptions,
  config: CollectorConfig,
  mark: Mark | undefined,
): { readonly local: LocalFilter; readonly view?: EcsView } {
  const out = options.out ?? process.stderr;
  const docsOut = options.docs ?? process.stdout;
  const ndjsonPath = options.ndjsonPath ?? join(tmpdir(), 'fluent-bit-jumpcloud-demo.ndjson');
  const view = docsOut.isTTY ? createEcsView(docsOut, ndjsonPath, 5, Date.now, mark) : undefined;
  const local = createLocalFilter({
    wasmPath: WASM_PATH,
    functionName: 'jumpcloud_ecs',
    ndjsonPath,
    onDocument: view ? (doc, tag) => view.show(doc, tag) : (doc) => docsOut.write(`${doc}\n`),
  });
  const wasm = existsSync(WASM_PATH) ? WASM_PATH : 'build/jumpcloud.wasm';
  const shown = view ? '; each is shown below as time, tag, event.action, outcome, user, source' : ' and to stdout';
  out.write(
    [
      `No Fluent Bit is listening on ${formatTarget(config.forward)}, so the demo maps the events to ECS itself: ` +
        'it runs',
      `${wasm} in this process, through the same ABI Fluent Bit's wasm filter uses`,
      '(function jumpcloud_ecs). In production Fluent Bit does this mapping: ' +
        'collector --forward--> Fluent Bit --wasm filter--> your SIEM.',
      `Every ECS document is written to ${ndjsonPath} (NDJSON, kept after the demo)${shown}.`,
      fluentBitHint(config.forward),
    ].join('\n'),
  );
  options.logger.info({ ndjson: ndjsonPath, wasm: WASM_PATH }, 'demo: no Fluent Bit listening; mapping in-process');
  return view ? { local, view } : { local };
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { logger } = options;
  const out = options.out ?? process.stderr;
  const { sim, scenario, mark } = await startDemoSimulator(options);
  const tempState = options.explicitStateDir ? undefined : mkdtempSync(join(tmpdir(), 'fluent-bit-jumpcloud-demo-'));
  const cleanupSync = (): void => {
    if (tempState) rmSync(tempState, { recursive: true, force: true });
  };
  // Whatever ends the process (a second signal, an uncaught error), the temporary state goes with it.
  process.once('exit', cleanupSync);
  const config = demoConfig(options, sim, tempState);
  out.write(introNotes(sim, config, tempState));
  if (scenario) out.write(scenarioNotes(scenario, options.scenario!, sim.scenarioEvents));
  const { local, view } = await demoOutput(options, config, mark);
  logger.info(
    { simulator: sim.url, stateDir: config.stateDir, temporary: tempState !== undefined },
    'demo: collecting from the simulator',
  );

  return {
    config: local ? withoutFluentBitHttp(config) : config,
    ...(local ? { forwardClient: local } : {}),
    tuning: { closeTimeoutMs: DEMO_CLOSE_TIMEOUT_MS },
    temporaryState: tempState !== undefined,
    exitMeaning(code) {
      if (code === 0)
        return local
          ? `ok: every event fetched was mapped and written (${local.documents} documents)`
          : 'ok: everything fetched was acknowledged by Fluent Bit';
      if (code === 1 && tempState)
        return (
          'some demo events were not delivered; the demo state is temporary, so nothing is kept and a next demo ' +
          'starts over'
        );
      return undefined;
    },
    async stop() {
      view?.flush();
      await local?.close();
      await sim.close();
      cleanupSync();
      process.off('exit', cleanupSync);
    },
    cleanupSync,
  };
}
