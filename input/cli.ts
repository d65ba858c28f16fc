#!/usr/bin/env node
// fluent-bit-jumpcloud: parse flags, environment and config file, then run the collector (or the built-in demo
// against the simulator, or `simulate`). Exit codes: 0 ok, 1 events not delivered, 2 configuration error,
// 3 the API refused (bad key, DI not licensed, missing org id).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClockSpec, systemClock } from './clock.js';
import { CLOCK_ENV, ConfigError, formatTarget, loadConfig, redactConfig, renderHelp, type LoadedConfig } from './config.js';
import { DiError } from './di/errors.js';
import { createLogger } from './log.js';
import { createMetrics, defaultStaleAfterMs, diHooks, forwardHooks, type CollectorMetrics } from './metrics.js';
import { MetricsServerError, startMetricsServer, type MetricsServer } from './metrics-server.js';
import { packageInfo } from './package-info.js';
import { secretScrubber } from './scrub.js';
import type { Clock, CollectorConfig, DiHooks, ForwardHooks, Logger } from './types.js';

export const EXIT = { ok: 0, undelivered: 1, config: 2, apiFatal: 3 } as const;
const EXIT_MEANING: Record<number, string> = {
  0: 'ok: everything fetched was acknowledged by Fluent Bit',
  1: 'some events were not delivered; they are fetched again on the next start',
  2: 'configuration error',
  3: 'the JumpCloud API refused the request: fix the setting named in the error above',
};

function fail(message: string): number {
  process.stderr.write(`fluent-bit-jumpcloud: ${message}\nRun fluent-bit-jumpcloud --help to see every option.\n`);
  return EXIT.config;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === 'simulate') {
    const { runSimulatorCli } = await import('./simulator/main.js');
    return runSimulatorCli(argv.slice(1));
  }

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

  const { config } = loaded;
  if (loaded.printConfig) {
    for (const warning of loaded.warnings) process.stderr.write(`fluent-bit-jumpcloud: warning: ${warning}\n`);
    process.stdout.write(`${JSON.stringify({ ...redactConfig(config), demo: loaded.demo, logLevel: loaded.logLevel }, null, 2)}\n`);
    return EXIT.ok;
  }

  // Every log line passes through a scrubber that blanks the configured secrets' values: defence in depth on
  // top of pino's path redaction, for a secret that would slip into an error message.
  const secrets = [
    config.auth?.kind === 'apiKey' ? config.auth.apiKey : undefined,
    config.auth?.kind === 'oauth' ? config.auth.clientSecret : undefined,
    config.sharedKey,
    config.password,
  ].filter((s): s is string => s !== undefined);
  const scrub = secretScrubber(secrets);
  const logger = createLogger({ level: loaded.logLevel, destination: { write: (line: string) => process.stderr.write(scrub(line)) } });
  for (const warning of loaded.warnings) logger.warn({}, warning);

  const metrics = createMetrics({ clock, staleAfterMs: defaultStaleAfterMs(config.intervalMs, config.requestTimeoutMs) });
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'stopping: no new polls; waiting for Fluent Bit to ack what was sent, then saving state');
      controller.abort();
    } else {
      // Nothing is lost: checkpoints only advance after acks, so unacked events are fetched again on restart.
      logger.warn({ signal }, 'second signal: exiting now; events not yet acknowledged will be sent again on the next start');
      process.exit(EXIT.undelivered);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let server: MetricsServer | undefined;
  let stopDemo: (() => Promise<void>) | undefined;
  try {
    if (config.metrics) {
      try {
        server = await startMetricsServer({ host: config.metrics.host, port: config.metrics.port, metrics, logger });
      } catch (err) {
        if (err instanceof MetricsServerError) return fail(err.message);
        throw err;
      }
      logger.info({ url: `http://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}/metrics`, port: server.port }, 'metrics listening');
    }
    let runConfig: CollectorConfig;
    if (loaded.demo) {
      const { startDemo } = await import('./demo.js');
      const demo = await startDemo({ config, clock, logger, explicitStateDir: loaded.sources['state-dir'] !== 'default' });
      stopDemo = demo.stop;
      runConfig = demo.config;
    } else {
      runConfig = config as CollectorConfig;
    }
    logger.info({ config: redactConfig(runConfig), demo: loaded.demo, version: packageInfo().version }, 'starting collector');
    const code = await runEngine(runConfig, { logger, metrics, clock, signal: controller.signal, diHooks: diHooks(metrics), forwardHooks: loggingForwardHooks(metrics, logger, runConfig) });
    logger.info({ exitCode: code, meaning: EXIT_MEANING[code] ?? 'unknown' }, 'exiting');
    return code;
  } catch (err) {
    logger.error({ err: scrub(describeError(err)) }, 'collector failed');
    return EXIT.undelivered;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await stopDemo?.().catch(() => undefined);
    await server?.close();
  }
}

async function runEngine(
  config: CollectorConfig,
  deps: { logger: Logger; metrics: CollectorMetrics; clock: Clock; signal: AbortSignal; diHooks: DiHooks; forwardHooks: ForwardHooks },
): Promise<number> {
  const { runCollector } = await import('./collector/run.js');
  const result = await runCollector(config, deps);
  if (result.exitCode === EXIT.ok) return EXIT.ok;
  // The API refused (401 bad key, 402 DI not licensed, 403 missing org id, 400 bad query): a configuration to fix.
  const refused = result.streams.some((s) => s.status === 'failed' && s.error instanceof DiError && s.error.fatal);
  return refused ? EXIT.apiFatal : result.exitCode;
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
        logger.warn({ forward: target, attempt: info.attempt, retryInMs: Math.round(info.delayMs), ...(info.error ? { error: info.error } : {}) },
          'cannot reach Fluent Bit: retrying (events wait; nothing is lost). Is its forward input listening there? See --forward');
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
      // Let stdout drain, then leave even if a stray keep-alive socket lingers.
      setImmediate(() => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`fluent-bit-jumpcloud: unexpected failure: ${describeError(err)}\n`);
      process.exit(EXIT.undelivered);
    },
  );
}
