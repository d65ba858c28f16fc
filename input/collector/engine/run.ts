// The collector engine's entry: one stream per service and batch of orgs (--org-batch-size; stream.ts), plus the
// provider's portal (--provider-id), run concurrently (polls bounded), over one shared DI client and one shared
// forward client. `once`: one pass per stream up to now − lag, then every ack awaited; otherwise polls every interval
// until the signal aborts, then stops fetching, waits for acks and persists.
import { setMaxListeners } from 'node:events';
import { ClockTimer, systemClock } from '../../clock.js';
import { DEFAULT_PAGE_BUDGET_BYTES, createDiClient } from '../../di/client.js';
import { DiError } from '../../di/errors.js';
import { MIN_REQUESTS_PER_POLL, effectivePollIntervalMs } from '../../di/request-budget.js';
import { createForwardClient } from '../../forward/client.js';
import { ForwardError } from '../../forward/errors.js';
import { DEFAULT_ORG_BATCH_SIZE, instanceOrgs, orgBatches, pollingStreams, readsProvider } from '../../batches.js';
import type { Clock, CollectorConfig, DiClient, DiHooks, ForwardClient, ForwardHooks, Logger } from '../../types.js';
import { backfillThresholdMs } from '../fetch/slices.js';
import { noMetrics, type EngineMetrics } from '../metrics.js';
import { openOracle } from '../oracle/index.js';
import { ensureStateDir } from '../state/files.js';
import { streamPaths, type StreamKey } from '../state/state.js';
import { PollLog } from './poll-log.js';
import { BackfillBoard } from './progress.js';
import { Semaphore } from './semaphore.js';
import { ServiceCoverage } from './services.js';
import {
  providerKey,
  runStream,
  type StreamDeps,
  type StreamResult,
  type StreamSettings,
  type StreamSpec,
} from './stream.js';

export interface CollectorDeps {
  readonly logger: Logger;
  readonly metrics?: EngineMetrics;
  /** The collector's time: windows, lag, intervals, API retries (tests and the demo may run it faster). */
  readonly clock?: Clock;
  /**
   * Real time (default the system clock): Fluent Bit's side of delivery (the forward client created here: acks, the
   * settle time; the restart oracle: Fluent Bit's uptime), and the pace of disk writes and progress lines.
   */
  readonly wallClock?: Clock;
  readonly signal?: AbortSignal;
  readonly diClient?: DiClient;
  readonly forwardClient?: ForwardClient;
  /** Hooks for the clients created here (metrics.ts's diHooks()/forwardHooks()). */
  readonly diHooks?: DiHooks;
  readonly forwardHooks?: ForwardHooks;
  /** Where the backfill progress bar goes (default process.stderr; a bar only when it is a TTY). */
  readonly progressOut?: { isTTY?: boolean; write(s: string): unknown };
  /** Engine tuning; defaults suit production. */
  readonly tuning?: Partial<EngineTuning>;
}

export interface EngineTuning {
  /** Streams polling at the same time (each takes a permit per poll, so none starves). */
  readonly maxConcurrentStreams: number;
  /** Entries per forward.send (the unit journaled after its ack). */
  readonly sendBatch: number;
  /** Pages in flight (awaiting acks) while the next page is fetched. */
  readonly pipelinePages: number;
  /**
   * Event bytes of sends whose acks have not settled yet: the next page waits while they hold more. Their frames
   * are let go at the ack (settleResend 'caller'), so this bounds what a connection loss within the settle time
   * makes the stream fetch again, not memory. Throughput is at most about this / (ack latency + ack settle time).
   */
  readonly pipelineBytes: number;
  /** Gap above which a backfill in slices replaces a single window (default max(overlap, 1 day)). */
  readonly backfillThresholdMs: number;
  /** Time allowed at shutdown for in-flight chunks to be acked. */
  readonly closeTimeoutMs: number;
  /** Real ms between backfill progress log lines (non-TTY). */
  readonly progressLogEveryMs: number;
  /** More streams than this: completed polls are logged as one aggregate line every pollLogEveryMs, not one each. */
  readonly pollLogAggregateAbove: number;
  readonly pollLogEveryMs: number;
  /** Bytes of DI page bodies held at once over every stream and slice (the DI client's pageBudgetBytes). */
  readonly pageBudgetBytes: number;
}

export interface RunResult {
  /**
   * 0: every stream completed (once) or stopped cleanly (loop); 1: a stream failed or something stayed unacked;
   * 3: the API refused a stream's requests (bad key, DI not licensed, missing org id, bad query): fix the config.
   */
  readonly exitCode: number;
  readonly streams: readonly StreamResult[];
  /** The forward client acked everything that was sent before it closed. */
  readonly allAcked: boolean;
  readonly forwarded: number;
}

type StreamConfig = Pick<CollectorConfig, 'orgIds' | 'services' | 'shard' | 'orgBatchSize' | 'providerId'>;

/**
 * The streams of a configuration: per service, the orgs (of this shard) in batches of --org-batch-size; no org ids
 * → one stream per service without x-org-id; and with --provider-id, the provider's portal (shard 0 only).
 */
export function streamSpecs(config: StreamConfig): StreamSpec[] {
  const orgs = instanceOrgs(config);
  const empty = config.shard !== undefined && config.orgIds.length > 0 && orgs.length === 0;
  const batches = empty
    ? []
    : orgs.length > 0
      ? orgBatches(orgs, config.orgBatchSize ?? DEFAULT_ORG_BATCH_SIZE)
      : [['']];
  const specs: StreamSpec[] = config.services.flatMap((service) => batches.map((b) => ({ service, orgs: b })));
  if (readsProvider(config)) {
    specs.push({ service: 'all', orgs: [providerKey(config.providerId!)], provider: config.providerId! });
  }
  return specs;
}

/** Every (org, service) the configuration collects: each has its own state and journal. */
export function streamKeys(config: StreamConfig): StreamKey[] {
  return streamSpecs(config).flatMap((spec) => spec.orgs.map((org) => ({ org, service: spec.service })));
}

/** Says so when the request budget cannot poll every stream once per interval, and what the interval then is. */
function warnIfBudgetTight(config: CollectorConfig, logger: Logger): void {
  const rps = config.maxRequestsPerSecond ?? 0;
  const streams = pollingStreams(config);
  if (rps <= 0 || config.once) return;
  const roundMs = effectivePollIntervalMs(config.intervalMs, streams, rps);
  if (roundMs <= config.intervalMs) return;
  logger.warn(
    { streams, maxRequestsPerSecond: rps, intervalMs: config.intervalMs, effectiveIntervalMs: Math.round(roundMs) },
    `${streams} streams need at least ${streams * MIN_REQUESTS_PER_POLL} requests per poll: at ${rps} requests/s ` +
      `each stream is polled about every ${Math.ceil(roundMs / 1000)} s, not every ` +
      `${Math.round(config.intervalMs / 1000)} s; raise --max-requests-per-second (if JumpCloud allows it), ` +
      '--org-batch-size or --interval, or split the orgs with --shard',
  );
}

function engineTuning(config: CollectorConfig, given: Partial<EngineTuning> | undefined): EngineTuning {
  return {
    maxConcurrentStreams: 16,
    sendBatch: 2000,
    // Sends resolve only after the ack settled (config.ackSettleMs), but pages are released once encoded:
    // enough pages may await their acks to keep ~1 s of traffic going.
    pipelinePages: 8,
    pipelineBytes: 64 * 1024 * 1024,
    backfillThresholdMs: backfillThresholdMs(config.overlapMs),
    closeTimeoutMs: 30_000,
    progressLogEveryMs: 10_000,
    pollLogAggregateAbove: 8,
    pollLogEveryMs: 60_000,
    pageBudgetBytes: DEFAULT_PAGE_BUDGET_BYTES,
    ...given,
  };
}

/** The clients every stream shares: given ones, or created from the configuration. */
interface Clients {
  /** What the streams query through: the DI client, rewritten by the services check when there is one. */
  readonly di: DiClient;
  readonly baseDi: DiClient;
  readonly forward: ForwardClient;
  readonly coverage: ServiceCoverage | undefined;
}

function createClients(
  config: CollectorConfig,
  deps: CollectorDeps,
  tuning: EngineTuning,
  keys: readonly StreamKey[],
): Clients {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const baseDi =
    deps.diClient ??
    createDiClient({
      apiUrl: config.apiUrl,
      auth: config.auth,
      pageLimit: config.pageLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      clock,
      logger,
      connections: Math.max(16, config.backfillSlices * 2),
      maxRequestsPerSecond: config.maxRequestsPerSecond ?? 0,
      pageBudgetBytes: tuning.pageBudgetBytes,
      ...(deps.diHooks ? { hooks: deps.diHooks } : {}),
    });
  // --services all: also collect what `all` misses (services.ts); its queries go through coverage.wrap. A DI client
  // without /events/distinct (an injected one) cannot check: nothing to schedule.
  const checkEveryMs = config.servicesCheckMs ?? 3_600_000;
  const all = config.services.length === 1 && config.services[0] === 'all';
  const coverage =
    all && checkEveryMs > 0 && baseDi.distinct !== undefined
      ? new ServiceCoverage({
          stateDir: config.stateDir,
          // The orgs' `all` streams: not the provider's portal (its query is not rewritten).
          orgs: keys.filter((k) => k.service === 'all' && !k.org.startsWith('provider.')).map((k) => k.org),
          batchSize: config.orgBatchSize ?? DEFAULT_ORG_BATCH_SIZE,
          sinceMs: config.sinceMs,
          lagMs: config.lagMs,
          overlapMs: config.overlapMs,
          intervalMs: config.intervalMs,
          checkEveryMs,
          once: config.once,
          clock,
          logger,
          metrics: deps.metrics ?? noMetrics,
        })
      : undefined;
  const forward =
    deps.forwardClient ??
    createForwardClient({
      target: config.forward,
      settleMs: config.ackSettleMs,
      clock: deps.wallClock ?? systemClock,
      // An acked frame is let go at once: if Fluent Bit's connection closes within the settle time, the stream
      // re-reads those events from the API (its checkpoint never passed them) instead of ~60 MB of frames being kept.
      settleResend: 'caller',
      // One pass must end: give up when Fluent Bit acks nothing for this long (a long-running collector retries
      // forever).
      ...(config.once && config.deliveryTimeoutMs ? { deliveryTimeoutMs: config.deliveryTimeoutMs } : {}),
      ...(config.tls ? { tls: config.tls } : {}),
      ...(config.sharedKey !== undefined ? { sharedKey: config.sharedKey } : {}),
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      logger,
      ...(deps.forwardHooks ? { hooks: deps.forwardHooks } : {}),
    });
  return { di: coverage ? coverage.wrap(baseDi) : baseDi, baseDi, forward, coverage };
}

function streamSettings(
  config: CollectorConfig,
  tuning: EngineTuning,
  deps: CollectorDeps,
  pollLog: PollLog,
): StreamSettings {
  const out = deps.progressOut ?? process.stderr;
  return {
    stateDir: config.stateDir,
    tag: config.tag,
    sinceMs: config.sinceMs,
    ...(config.sinceGiven ? { sinceGiven: true } : {}),
    lagMs: config.lagMs,
    overlapMs: config.overlapMs,
    intervalMs: config.intervalMs,
    once: config.once,
    backfillSlices: config.backfillSlices,
    backfillThresholdMs: tuning.backfillThresholdMs,
    maxSeenIds: config.maxSeenIds,
    ackSettleMs: config.ackSettleMs,
    sendBatch: tuning.sendBatch,
    pipelinePages: tuning.pipelinePages,
    pipelineBytes: tuning.pipelineBytes,
    progress: new BackfillBoard({
      logger: deps.logger,
      out,
      logEveryMs: tuning.progressLogEveryMs,
      clock: deps.wallClock ?? systemClock,
    }),
    pollLog,
  };
}

/**
 * The stop of every stream: the caller's signal, or a fatal forward error (auth, record too large: nothing more can be
 * delivered). After it, in-flight chunks get closeTimeoutMs to be acked; then the forward client is closed, which
 * rejects what is still unacked (not journaled, so it is fetched and sent again on the next start).
 */
class Stop {
  readonly controller = new AbortController();
  private readonly closeTimer: ClockTimer;
  forcedClose: Promise<boolean> | undefined;
  private readonly onAbort = (): void => this.controller.abort();

  constructor(
    private readonly given: AbortSignal | undefined,
    forward: ForwardClient,
    closeTimeoutMs: number,
    wallClock: Clock,
    logger: Logger,
  ) {
    setMaxListeners(0, this.controller.signal); // every stream and slice listens on it
    this.closeTimer = new ClockTimer(wallClock);
    const closeLater = (): void =>
      this.closeTimer.arm(closeTimeoutMs, () => {
        logger.warn(
          { timeoutMs: closeTimeoutMs },
          'in-flight chunks not acked in time after the stop: closing the forward connection',
        );
        this.forcedClose = forward.close(0);
      });
    this.controller.signal.addEventListener('abort', closeLater, { once: true });
    given?.addEventListener('abort', this.onAbort, { once: true });
    if (given?.aborted) this.controller.abort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The streams are over: no forced close from now on. */
  end(): void {
    this.given?.removeEventListener('abort', this.onAbort);
    this.closeTimer.clear();
  }
}

/**
 * Runs every stream to the end (once) or until the signal. Throws StateDirError before anything starts when the
 * state directory cannot be created or written.
 */
export async function runCollector(config: CollectorConfig, deps: CollectorDeps): Promise<RunResult> {
  const { logger } = deps;
  const specs = streamSpecs(config);
  const keys = specs.flatMap((spec) => spec.orgs.map((org) => ({ org, service: spec.service })));
  ensureStateDir(
    config.stateDir,
    keys.map((k) => streamPaths(config.stateDir, k).dir),
  );
  const wallClock = deps.wallClock ?? systemClock;
  const tuning = engineTuning(config, deps.tuning);
  const clients = createClients(config, deps, tuning, keys);
  const stop = new Stop(deps.signal, clients.forward, tuning.closeTimeoutMs, wallClock, logger);
  const pollLog = new PollLog({
    logger,
    streams: keys.length,
    aggregateAbove: tuning.pollLogAggregateAbove,
    everyMs: tuning.pollLogEveryMs,
    clock: wallClock,
  });
  const settings = streamSettings(config, tuning, deps, pollLog);
  const shard = config.shard
    ? {
        shard: `${config.shard.index}/${config.shard.count}`,
        orgs: instanceOrgs(config).length,
        ofOrgs: config.orgIds.length,
      }
    : {};
  logger.info(
    { streams: keys.length, queries: specs.length, once: config.once, stateDir: config.stateDir, ...shard },
    'collector starting',
  );
  if (keys.length === 0 && !config.once) {
    // An empty shard stays up (healthy, idle) rather than exit and be restarted in a loop by its supervisor.
    logger.warn({ shard: config.shard }, 'no org of --org-ids falls in this shard: idle until stopped');
    if (!stop.signal.aborted)
      await new Promise<void>((r) => stop.signal.addEventListener('abort', () => r(), { once: true }));
  }
  warnIfBudgetTight(config, logger);
  let results: StreamResult[];
  try {
    const permits = new Semaphore(tuning.maxConcurrentStreams);
    results = await runStreams({ config, deps, specs, clients, settings, stop, permits });
  } finally {
    stop.end();
    pollLog.flush();
  }
  // Streams have awaited their own sends; close() waits for anything still in flight.
  let allAcked = stop.forcedClose ? (await stop.forcedClose, false) : true;
  if (!deps.forwardClient && !stop.forcedClose) allAcked = await clients.forward.close(tuning.closeTimeoutMs);
  if (!deps.diClient) await clients.di.close();
  return finish(results, allAcked, deps, logger);
}

/** What the streams of a run share. */
interface RunParts {
  readonly config: CollectorConfig;
  readonly deps: CollectorDeps;
  readonly specs: readonly StreamSpec[];
  readonly clients: Clients;
  readonly settings: StreamSettings;
  readonly stop: Stop;
  /** Taken for each poll, so that at most tuning.maxConcurrentStreams streams fetch at once. */
  readonly permits: Semaphore;
}

/** Every stream (and the services check's catch-up streams) until they end; the restart oracle opened first. */
async function runStreams({
  config,
  deps,
  specs,
  clients,
  settings,
  stop,
  permits,
}: RunParts): Promise<StreamResult[]> {
  const { logger } = deps;
  // Before any stream writes: decides what the last run had in flight, then takes a baseline of the counter.
  const http = config.fluentBitHttp;
  const oracle = http
    ? await openOracle({
        stateDir: config.stateDir,
        http,
        auto: http.auto === true,
        forward: config.forward.kind === 'tcp' ? config.forward : http,
        input: config.fluentBitInput ?? 'jumpcloud_forward',
        settleMs: config.ackSettleMs,
        logger,
        clock: deps.wallClock ?? systemClock,
        signal: stop.signal,
      })
    : undefined;
  try {
    const streamDeps: StreamDeps = {
      permits,
      di: clients.di,
      forward: clients.forward,
      logger,
      metrics: deps.metrics ?? noMetrics,
      clock: deps.clock ?? systemClock,
      wallClock: deps.wallClock ?? systemClock,
      ...(oracle ? { oracle } : {}),
      ...(clients.coverage ? { queryPlan: clients.coverage.queryPlan.bind(clients.coverage) } : {}),
    };
    const runOne = async (spec: StreamSpec, s: StreamSettings, signal: AbortSignal): Promise<StreamResult[]> => {
      const rs = await runStream(spec, s, streamDeps, signal);
      // A fatal forward error (auth, a record larger than a frame, …) hits every stream alike: stop them all.
      const fatal = rs.find((r) => r.error instanceof ForwardError && r.error.fatal);
      if (fatal && !stop.signal.aborted) {
        logger.error({ error: fatal.error!.message }, 'forwarding failed fatally: stopping every stream');
        stop.controller.abort();
      }
      return rs;
    };
    const { coverage, baseDi } = clients;
    // The services check of each batch comes before its stream's first query (the others need not wait for it).
    const prepared = coverage?.prepare(baseDi, stop.signal);
    // The catch-up streams end with the others (or, with --once, when their pass is done).
    const coverageStop = new AbortController();
    stop.signal.addEventListener('abort', () => coverageStop.abort(), { once: true });
    const extra = prepared?.then(() =>
      coverage!.run(
        baseDi,
        (orgs, service, sinceMs, signal) => runOne({ service, orgs }, { ...settings, sinceMs }, signal),
        coverageStop.signal,
      ),
    );
    const checked = async (spec: StreamSpec): Promise<StreamResult[]> => {
      if (coverage && spec.provider === undefined) await coverage.ready(spec.orgs);
      return runOne(spec, settings, stop.signal);
    };
    const results = (await Promise.all(specs.map(checked))).flat();
    if (!config.once) coverageStop.abort();
    return extra ? [...results, ...(await extra)] : results;
  } finally {
    await oracle?.close();
  }
}

/** The exit code and the closing log line of a run. */
function finish(results: readonly StreamResult[], allAcked: boolean, deps: CollectorDeps, logger: Logger): RunResult {
  const failed = results.filter((r) => r.status === 'failed');
  const stoppedByFailure = results.filter((r) => r.status === 'stopped' && !deps.signal?.aborted);
  // The API refused (401 bad key, 402 DI not licensed, 403 missing org id, 400 bad query): retrying cannot help.
  const refused = failed.some((r) => r.error instanceof DiError && r.error.fatal);
  const exitCode = refused ? 3 : failed.length > 0 || stoppedByFailure.length > 0 || !allAcked ? 1 : 0;
  const forwarded = results.reduce((n, r) => n + r.forwarded, 0);
  const streams = results.map((r) => ({
    org: r.org,
    service: r.service,
    status: r.status,
    forwarded: r.forwarded,
    checkpoint: r.checkpoint,
    ...(r.error ? { error: r.error.message } : {}),
  }));
  logger.info({ exitCode, forwarded, streams }, 'collector stopped');
  return { exitCode, streams: results, allAcked, forwarded };
}
