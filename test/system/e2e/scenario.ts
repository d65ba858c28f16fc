// One end-to-end run: DI simulator (the ten seed events + N generated ones) → collector CLI → Fluent Bit
// on the shipped configuration → stdout / fake Elasticsearch / fake Splunk HEC. Returns what each output
// received, and what should have arrived, for the tests to compare.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatClockSpec, parseClockSpec } from '../../../input/clock.js';
import { startSimulator, type Simulator } from '../../../input/simulator/server.js';
import { BulkReceiver } from '../../support/bulk-receiver.js';
import { HecReceiver } from '../../support/hec-receiver.js';
import {
  REPO,
  WASM,
  freePort,
  runCollector,
  shippedEnv,
  startFluentBit,
  tempDir,
  writeConfig,
  type CollectorRun,
  type ConfigChoice,
  type FluentBit,
} from './pipeline-harness.js';

export const DATA_STREAM = 'logs-jumpcloud.directory_insights-default';

/** The collector's and the simulator's shared clock: a day after the newest seed event. */
const VIRTUAL_NOW = Date.parse('2023-06-22T00:00:00Z');
const GENERATED_FROM = Date.parse('2023-06-21T00:00:00Z');

export interface Seed {
  readonly name: string;
  readonly id: string;
  readonly service: string;
  readonly text: string;
  readonly golden: Record<string, unknown>;
}

export function seeds(): Seed[] {
  const dir = join(REPO, 'fixtures/samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.input.json'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8').trim();
      const ev = JSON.parse(text) as { id: string; service: string };
      const golden = JSON.parse(readFileSync(join(dir, f.replace('.input.json', '.expected.json')), 'utf8')) as Record<
        string,
        unknown
      >;
      return { name: f.replace('.input.json', ''), id: ev.id, service: ev.service, text, golden };
    });
}

export interface ScenarioOptions extends Omit<ConfigChoice, 'outputs'> {
  readonly outputs: ConfigChoice['outputs'];
  /** Generated events besides the seeds (spread over the seeds' three services). */
  readonly generated: number;
  /** Called once the receivers exist, before anything is sent (fault injection). */
  readonly arrange?: (r: { bulk: BulkReceiver; hec: HecReceiver }) => void;
  readonly collectorTimeoutMs: number;
  /** Extra Fluent Bit environment (e.g. FORWARD_SHARED_KEY) and extra collector flags. */
  readonly fluentBitEnv?: Readonly<Record<string, string>>;
  readonly collectorArgs?: readonly string[];
}

export interface Scenario {
  readonly sim: Simulator;
  readonly fb: FluentBit;
  readonly bulk: BulkReceiver;
  readonly hec: HecReceiver;
  readonly collector: CollectorRun;
  /** Ids the simulator served for the collected range (seeds included), in API order. */
  readonly expectedIds: string[];
  readonly expectedTimestamps: Map<string, string>;
  /** Wall-clock milliseconds the collector took (fetch + forward + all acks). */
  readonly collectorMs: number;
  /** Date.now() when the collector was started. */
  readonly startedAt: number;
  close(): Promise<void>;
}

export async function runScenario(o: ScenarioOptions): Promise<Scenario> {
  const tmp = tempDir('jumpcloud-e2e-');
  const closers: Array<() => Promise<unknown> | void> = [() => tmp.remove()];
  const close = async () => {
    while (closers.length > 0) await closers.pop()!();
  };
  try {
    // Large runs: do not keep request bodies (the receivers still parse and check every line strictly).
    const bulk = await BulkReceiver.start({ retainBodies: false });
    closers.push(() => bulk.close());
    const hec = await HecReceiver.start({ retainBodies: false });
    closers.push(() => hec.close());
    o.arrange?.({ bulk, hec });

    const spec = formatClockSpec(VIRTUAL_NOW, Date.now(), 1);
    // The seeds' services: the simulator generates events for every stream it has, seeds' ones included.
    const services = ['directory', 'sso', 'radius'];
    const minutes = 60;
    const sim = await startSimulator({
      clock: parseClockSpec(spec),
      seed: 42,
      services,
      // The generator is bursty (each bucket 0.5x to 1.5x the rate): 3 % more keeps the count at or above `generated`.
      eventsPerMinute: (o.generated * 1.03) / services.length / minutes,
      from: GENERATED_FROM,
      to: GENERATED_FROM + minutes * 60_000 - 1,
      events: seeds().map((s) => ({ service: s.service, event: s.text })),
      retentionDays: 3650,
    });
    closers.push(() => sim.close());
    const expected = sim.expectedEvents({ service: 'all', start: '2023-06-01T00:00:00Z', end: VIRTUAL_NOW });
    const expectedIds = expected.map((e) => e.id);
    const expectedTimestamps = new Map(expected.map((e) => [e.id, e.timestamp]));

    const storage = join(tmp.path, 'storage');
    const configPath = writeConfig(tmp.path, o);
    const env: Record<string, string> = {
      ...shippedEnv(),
      JUMPCLOUD_STORAGE_PATH: storage,
      FORWARD_PORT: String(await freePort()),
      FLUENT_BIT_HTTP_PORT: String(await freePort()),
      JUMPCLOUD_WASM_PATH: WASM,
      JUMPCLOUD_WASM_DIR: dirname(WASM),
      ES_HOST: '127.0.0.1',
      ES_PORT: String(bulk.port),
      SPLUNK_HOST: '127.0.0.1',
      SPLUNK_PORT: String(hec.port),
      SPLUNK_HEC_TOKEN: hec.token,
      ...o.fluentBitEnv,
    };
    const fb = await startFluentBit(configPath, env);
    closers.push(() => fb.stop());

    const started = Date.now();
    const collector = await runCollector(
      [
        '--api-url',
        sim.url,
        '--api-key',
        sim.apiKey,
        '--forward',
        `127.0.0.1:${fb.forwardPort}`,
        '--state-dir',
        join(tmp.path, 'state'),
        '--since',
        '2023-06-01T00:00:00Z',
        '--once',
        '--log-level',
        'warn',
        ...(o.collectorArgs ?? []),
      ],
      { FLUENT_BIT_JUMPCLOUD_CLOCK: spec },
      o.collectorTimeoutMs,
    );
    const collectorMs = Date.now() - started;
    return { sim, fb, bulk, hec, collector, expectedIds, expectedTimestamps, collectorMs, startedAt: started, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Ids carried by documents of either profile (jumpcloud.id for jumpcloud_ecs, event.id for jumpcloud_elastic). */
export function docId(doc: Record<string, unknown>): string | undefined {
  const j = doc.jumpcloud as { id?: unknown } | undefined;
  if (typeof j?.id === 'string') return j.id;
  const e = doc.event as { id?: unknown } | undefined;
  return typeof e?.id === 'string' ? e.id : undefined;
}

/** Multiplicity of each id. */
export function countIds(docs: Iterable<Record<string, unknown>>): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of docs) {
    const id = docId(d) ?? '<no id>';
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}
