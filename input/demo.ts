// The built-in demo: with no JumpCloud credentials, the CLI starts the Directory Insights simulator in-process
// (live events on the same clock) and collects from it, forwarding to Fluent Bit when one listens; otherwise it
// says how to start one and keeps retrying (the events wait: nothing is lost).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTarget, type DraftConfig } from './config.js';
import { packageInfo } from './package-info.js';
import type { Clock, CollectorConfig, ForwardTarget, Logger } from './types.js';

export interface Demo {
  readonly config: CollectorConfig;
  stop(): Promise<void>;
}

/** True when something accepts connections at the target within `timeoutMs`. */
function probeForward(target: ForwardTarget, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = target.kind === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
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

function fluentBitHint(target: ForwardTarget): string {
  const conf = join(packageInfo().root, 'fluent-bit.conf');
  const listen = target.kind === 'unix'
    ? `-p unix_path=${target.path}`
    : `-p listen=${target.host} -p port=${target.port}`;
  return [
    `No Fluent Bit is listening on ${formatTarget(target)} yet: the demo events wait and are sent as soon as one listens (nothing is lost).`,
    'Start one with the shipped configuration:',
    existsSync(conf) ? `    fluent-bit -c ${conf}` : '    fluent-bit -c fluent-bit.conf   (shipped in the package)',
    'or, to just see the records:',
    `    fluent-bit -i forward ${listen} -p threaded=on -o stdout -m 'jumpcloud.*'`,
    'or point the collector at yours: --forward HOST:PORT or --forward unix:/path (env FLUENT_BIT_FORWARD).',
    '',
  ].join('\n');
}

export async function startDemo(options: {
  readonly config: DraftConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** --state-dir was given: keep the demo's state there; otherwise a temporary directory, removed at the end. */
  readonly explicitStateDir: boolean;
  /** Where the plain-text hints go (default stderr). */
  readonly out?: { write(text: string): unknown };
}): Promise<Demo> {
  const { clock, logger } = options;
  const out = options.out ?? process.stderr;
  const { startSimulator } = await import('./simulator/server.js');
  const sim = await startSimulator({
    clock,
    logger,
    orgs: options.config.orgIds.length > 0 ? options.config.orgIds : [''],
    // Generated history reaches back to --since, so the demo shows a backfill, then live polling.
    from: Math.min(options.config.sinceMs, clock.now() - 60_000),
    to: 'live',
  });
  const tempState = options.explicitStateDir ? undefined : mkdtempSync(join(tmpdir(), 'fluent-bit-jumpcloud-demo-'));
  const config: CollectorConfig = {
    ...options.config,
    apiUrl: sim.url,
    auth: { kind: 'apiKey', apiKey: sim.apiKey },
    stateDir: tempState ?? options.config.stateDir,
  };
  out.write([
    '',
    'fluent-bit-jumpcloud demo: no JumpCloud credentials were given, so events come from the built-in Directory Insights',
    `simulator at ${sim.url} (live, about one event per second per service).`,
    'To collect for real: JUMPCLOUD_API_KEY=... (or --api-key-file FILE, or --client-id/--client-secret with --org-ids).',
    '',
  ].join('\n'));
  if (await probeForward(config.forward)) {
    logger.info({ forward: formatTarget(config.forward) }, 'demo: Fluent Bit is listening; forwarding there');
  } else {
    out.write(fluentBitHint(config.forward));
    logger.warn({ forward: formatTarget(config.forward) }, 'demo: no Fluent Bit listening yet; retrying');
  }
  logger.info({ simulator: sim.url, stateDir: config.stateDir, temporary: tempState !== undefined }, 'demo: collecting from the simulator');
  return {
    config,
    async stop() {
      await sim.close();
      if (tempState) rmSync(tempState, { recursive: true, force: true });
    },
  };
}
