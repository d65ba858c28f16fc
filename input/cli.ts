#!/usr/bin/env node
// fluent-bit-jumpcloud: parse flags, environment and config file, then run the collector (or the built-in demo
// against the simulator, or `simulate`). Exit codes: 0 ok, 1 events not delivered, 2 configuration error,
// 3 the API refused (bad key, DI not licensed, missing org id).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClockSpec, systemClock } from './clock.js';
import {
  CLOCK_ENV,
  ConfigError,
  formatTarget,
  loadConfig,
  redactConfig,
  renderHelp,
  type LoadedConfig,
} from './config.js';
import { lockStateDir, StateLockedError, StateLockError, type StateLock } from './collector/state/lock.js';
import { ensureStateDir, StateDirError } from './collector/state/files.js';
import { createLogger, statusLine } from './log.js';
import { createMetrics, defaultStaleAfterMs, diHooks, forwardHooks, type CollectorMetrics } from './metrics.js';
import { MetricsServerError, startMetricsServer, type MetricsServer } from './metrics-server.js';
import { packageInfo, selfCommand } from './package-info.js';
import { secretScrubber } from './scrub.js';
import type { Demo } from './demo.js';
import { pollingStreams } from './batches.js';
import { effectivePollIntervalMs } from './di/request-budget.js';
import type { Clock, CollectorConfig, ForwardHooks, Logger } from './types.js';

export const EXIT = { ok: 0, undelivered: 1, config: 2, apiFatal: 3 } as const;
const EXIT_MEANING: Record<number, string> = {
  0: 'ok: everything fetched was acknowledged by Fluent Bit',
  1: 'some events were not delivered; they are fetched again on the next start',
  2: 'configuration error',
  3: 'the JumpCloud API refused the request: fix the setting named in the error above',
};

function fail(message: string): number {
  process.stderr.write(`fluent-bit-jumpcloud: ${message}\nRun ${selfCommand()} --help to see every option.\n`);
  return EXIT.config;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === 'simulate') {
    const { runSimulatorCli } = await import('./simulator/main.js');
    return runSimulatorCli(argv.slice(1));
  }
  if (argv[0] === 'fluent-bit-command') {
    const { runFluentBitCommandCli } = await import('./fluent-bit-command.js');
    return runFluentBitCommandCli(argv.slice(1), env);
  }
  const start = configure(argv, env);
  if (typeof start === 'number') return start;
  return new CollectorProcess(start.loaded, start.clock).run();
}

/** The clock (FLUENT_BIT_JUMPCLOUD_CLOCK, testing only) and the configuration; an exit code when that is all. */
function configure(argv: readonly string[], env: NodeJS.ProcessEnv): { clock: Clock; loaded: LoadedConfig } | number {
  let clock: Clock = systemClock;
  const clockSpec = env[CLOCK_ENV];
  if (clockSpec !== undefined && clockSpec !== '') {
    try {
      clock = parseClockSpec(clockSpec);
    } catch (err) {
      return fail(`invalid ${CLOCK_ENV} (env, testing only): ${(err as Error).message}`);
    }
  }
  let loaded: LoadedConfig;
  try {
    const result = loadConfig({ argv, env, now: clock.now() });
    if (result.kind === 'help') {
      process.stdout.write(renderHelp(packageInfo().version));
      return EXIT.ok;
    }
    if (result.kind === 'version') {
      process.stdout.write(`${packageInfo().version}\n`);
      return EXIT.ok;
    }
    loaded = result;
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  if (loaded.printConfig) {
    for (const warning of loaded.warnings) process.stderr.write(`fluent-bit-jumpcloud: warning: ${warning}\n`);
    const printed = { ...redactConfig(loaded.config), demo: loaded.demo, logLevel: loaded.logLevel };
    process.stdout.write(`${JSON.stringify(printed, null, 2)}\n`);
    return EXIT.ok;
  }
  return { clock, loaded };
}

/** The log of the process: every line passes through a scrubber of the configured secrets' values. */
function processLogger(loaded: LoadedConfig): {
  logger: Logger;
  scrub: (s: string) => string;
  stderr: ReturnType<typeof statusLine>;
} {
  const { config } = loaded;
  // Defence in depth on top of pino's path redaction, for a secret that would slip into an error message.
  const secrets = [
    config.auth?.kind === 'apiKey' ? config.auth.apiKey : undefined,
    config.auth?.kind === 'oauth' ? config.auth.clientSecret : undefined,
    config.sharedKey,
    config.password,
  ].filter((s): s is string => s !== undefined);
  const scrub = secretScrubber(secrets);
  const stderr = statusLine(process.stderr);
  const logger = createLogger({
    level: loaded.logLevel,
    destination: { write: (line: string) => stderr.writeLog(scrub(line)) },
  });
  for (const warning of loaded.warnings) logger.warn({}, warning);
  return { logger, scrub, stderr };
}

/** The metrics of the process: a stream is stale after several missed polls, at the pace the request budget allows. */
function processMetrics(config: LoadedConfig['config'], clock: Clock): CollectorMetrics {
  // Each query (a batch of orgs of one service, or the provider's portal) is polled once per round.
  const streams = pollingStreams(config);
  const pollEveryMs = effectivePollIntervalMs(config.intervalMs, streams, config.maxRequestsPerSecond);
  return createMetrics({
    clock,
    staleAfterMs: defaultStaleAfterMs(pollEveryMs, config.requestTimeoutMs),
    idle: streams === 0,
  });
}

/** One run of the collector (or the demo) as a process: its log, metrics, signals, lock and exit code. */
class CollectorProcess {
  private readonly logger: Logger;
  private readonly scrub: (s: string) => string;
  private readonly stderr: ReturnType<typeof statusLine>;
  private readonly metrics: CollectorMetrics;
  private readonly controller = new AbortController();
  private signals = 0;
  private demo: Demo | undefined;
  private server: MetricsServer | undefined;
  private lock: StateLock | undefined;
  private lockLost = false;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.signal(signal);

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly clock: Clock,
  ) {
    ({ logger: this.logger, scrub: this.scrub, stderr: this.stderr } = processLogger(loaded));
    this.metrics = processMetrics(loaded.config, clock);
  }

  async run(): Promise<number> {
    process.on('SIGTERM', this.onSignal);
    process.on('SIGINT', this.onSignal);
    let code: number = EXIT.undelivered;
    // Refused before the run (the lock, the metrics port): said on stderr, with no 'exiting' line.
    let refused: number | undefined;
    try {
      const r = await this.collect();
      if (typeof r === 'number') code = r;
      else refused = r.refused;
    } catch (err) {
      if (err instanceof StateDirError) {
        this.logger.error({ stateDir: err.dir }, err.message);
        code = EXIT.config;
      } else {
        this.logger.error({ err: this.scrub(describeError(err)) }, 'collector failed');
        code = EXIT.undelivered;
      }
    } finally {
      await this.server?.close();
      // Released before the demo removes its temporary directory.
      await this.lock?.release();
      await this.demo?.stop().catch(() => undefined);
      // Only now: a second signal during the clean-up above still takes the handler's path (which removes demo state).
      process.off('SIGTERM', this.onSignal);
      process.off('SIGINT', this.onSignal);
    }
    if (refused !== undefined) return refused;
    // The one place the exit code is logged: the same number the process exits with.
    const meaning = this.demo?.exitMeaning(code) ?? EXIT_MEANING[code] ?? 'unknown';
    this.logger.info({ exitCode: code, meaning }, 'exiting');
    return code;
  }

  private signal(signal: NodeJS.Signals): void {
    const { logger, demo } = this;
    this.signals++;
    if (this.signals === 1) {
      logger.info(
        { signal },
        demo?.temporaryState
          ? `stopping the demo: no new polls; in-flight events get ${(demo.tuning.closeTimeoutMs ?? 0) / 1000} s to ` +
              'be acked (the demo state is temporary: nothing is kept)'
          : 'stopping: no new polls; waiting for Fluent Bit to ack what was sent, then saving state',
      );
      this.controller.abort();
    } else if (demo?.temporaryState) {
      demo.cleanupSync();
      logger.warn({ signal }, 'second signal: exiting now; the temporary demo state is removed, nothing is kept');
      process.exit(EXIT.undelivered);
    } else {
      // Nothing is lost: checkpoints only advance after acks, so unacked events are fetched again on restart.
      logger.warn(
        { signal, exitCode: EXIT.undelivered },
        'second signal: exiting now; events not yet acknowledged will be sent again on the next start',
      );
      process.exit(EXIT.undelivered);
    }
  }

  /**
   * One collector per state directory, held until exit (before the metrics port, so that a second collector's error
   * names the lock, not the port). Returns why it was refused, if so.
   */
  private async takeLock(dir: string): Promise<string | undefined> {
    const { logger } = this;
    // A directory we cannot write is a StateDirError (exit 2, naming the fix), not a lock failure.
    ensureStateDir(dir);
    try {
      this.lock = await lockStateDir(dir, {
        onCompromised: (err) => {
          this.lockLost = true;
          logger.error(
            { stateDir: dir, error: err.message },
            'lost the lock on the state directory (another collector took it over?): stopping',
          );
          this.controller.abort();
        },
      });
    } catch (err) {
      if (err instanceof StateLockedError || err instanceof StateLockError) return err.message;
      throw err;
    }
    const { tookOver } = this.lock;
    if (tookOver)
      logger.warn(
        { stateDir: dir, reason: tookOver.reason, holder: tookOver.holder },
        'took over a stale lock on the state directory',
      );
    logger.debug({ stateDir: dir }, 'state directory locked');
    return undefined;
  }

  /** Lock, metrics endpoint, the demo when asked for, then the engine; its exit code (or the refusal's). */
  private async collect(): Promise<number | { refused: number }> {
    const { loaded, logger } = this;
    const { config } = loaded;
    // The demo's temporary directory is locked once it exists.
    const lockFirst = !loaded.demo || loaded.sources['state-dir'] !== 'default';
    if (lockFirst) {
      const refused = await this.takeLock(config.stateDir);
      if (refused) return { refused: fail(refused) };
    }
    if (config.metrics) {
      try {
        this.server = await startMetricsServer({
          host: config.metrics.host,
          port: config.metrics.port,
          metrics: this.metrics,
          logger,
        });
      } catch (err) {
        if (err instanceof MetricsServerError) return { refused: fail(err.message) };
        throw err;
      }
      const host = this.server.host.includes(':') ? `[${this.server.host}]` : this.server.host;
      logger.info({ url: `http://${host}:${this.server.port}/metrics`, port: this.server.port }, 'metrics listening');
    }
    let runConfig: CollectorConfig;
    if (loaded.demo) {
      this.demo = await this.startDemo();
      runConfig = this.demo.config;
      if (!lockFirst) {
        const refused = await this.takeLock(runConfig.stateDir);
        if (refused) return { refused: fail(refused) };
      }
    } else {
      runConfig = config as CollectorConfig;
    }
    logger.info(
      { config: redactConfig(runConfig), demo: loaded.demo, version: packageInfo().version },
      'starting collector',
    );
    const { runCollector } = await import('./collector/engine/run.js');
    const { demo } = this;
    const engineCode = (
      await runCollector(runConfig, {
        logger,
        metrics: this.metrics,
        clock: this.clock,
        signal: this.controller.signal,
        progressOut: this.stderr,
        diHooks: diHooks(this.metrics),
        forwardHooks: loggingForwardHooks(this.metrics, logger, runConfig),
        ...(demo?.forwardClient ? { forwardClient: demo.forwardClient } : {}),
        ...(demo ? { tuning: demo.tuning } : {}),
      })
    ).exitCode;
    return this.lockLost && engineCode === EXIT.ok ? EXIT.undelivered : engineCode;
  }

  private async startDemo(): Promise<Demo> {
    const { loaded } = this;
    const { startDemo } = await import('./demo.js');
    return startDemo({
      config: loaded.config,
      clock: this.clock,
      logger: this.logger,
      explicitStateDir: loaded.sources['state-dir'] !== 'default',
      defaults: {
        lag: loaded.sources.lag === 'default',
        interval: loaded.sources.interval === 'default',
        pageLimit: loaded.sources['page-limit'] === 'default',
      },
      ...(loaded.demoOutput !== undefined ? { ndjsonPath: loaded.demoOutput } : {}),
      ...(loaded.demoScenario !== undefined ? { scenario: loaded.demoScenario } : {}),
    });
  }
}

function isMainModule(): boolean {
  const invokedAs = process.argv[1];
  if (invokedAs === undefined) return false;
  try {
    return realpathSync(invokedAs) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Metrics hooks plus a hint when Fluent Bit cannot be reached: first failure, then every 10th attempt. */
function loggingForwardHooks(metrics: CollectorMetrics, logger: Logger, config: CollectorConfig): ForwardHooks {
  const base = forwardHooks(metrics);
  const target = formatTarget(config.forward);
  return {
    ...base,
    onReconnect(info) {
      base.onReconnect?.(info);
      if (info.attempt === 1 || info.attempt % 10 === 0) {
        const fields = {
          forward: target,
          attempt: info.attempt,
          retryInMs: Math.round(info.delayMs),
          ...(info.error ? { error: info.error } : {}),
        };
        if (info.reason === 'unresolved') {
          logger.warn(
            fields,
            `cannot resolve the host of --forward ${target}: retrying (events wait; nothing is ` +
              `lost). Check the host name in --forward (env FLUENT_BIT_FORWARD)`,
          );
        } else {
          logger.warn(
            fields,
            'cannot reach Fluent Bit: retrying (events wait; nothing is lost). Is its forward ' +
              'input listening there? See --forward',
          );
        }
      }
    },
  };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

// Run when executed directly (node dist/input/cli.js, node --import tsx input/cli.ts, or the npm bin link).
if (isMainModule()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Let stdout drain (the demo's documents on a pipe), then leave even if a stray keep-alive socket lingers.
      const exit = (): never => process.exit(code);
      if (process.stdout.writableLength > 0) {
        process.stdout.once('drain', exit);
        setTimeout(exit, 1000);
      } else {
        setImmediate(exit);
      }
    },
    (err: unknown) => {
      process.stderr.write(`fluent-bit-jumpcloud: unexpected failure: ${describeError(err)}\n`);
      process.exit(EXIT.undelivered);
    },
  );
}
