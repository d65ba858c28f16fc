// The documents the OpenSearch tests index: the golden documents of both profiles, the filter's own
// output for the golden inputs, and any number of simulator events mapped by build/jumpcloud.wasm. Each
// is shaped as Fluent Bit's opensearch output sends it (conf/output-opensearch.conf: Time_Key
// jumpcloud.record_time, nanoseconds), with the _id its Id_Key gives.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseRfc3339 } from '../../../input/di/rfc3339.js';
import { EventStore, GENERATED_SERVICES } from '../../../input/simulator/events.js';
import { REPO } from '../e2e/pipeline-harness.js';
import type { FilterHost } from '../../../input/wasm/filter-host.js';

export type Profile = 'jumpcloud_ecs' | 'jumpcloud_elastic';
export interface Doc {
  readonly id: string;
  readonly doc: Record<string, any>;
}

const FIXTURES = join(REPO, 'fixtures');
const read = (rel: string): string => readFileSync(join(FIXTURES, rel), 'utf8');

/** The _id the output's Id_Key takes: $jumpcloud['id'] (ecs) or $event['id'] (elastic). */
export function idOf(profile: Profile, doc: Record<string, any>): string {
  const id = profile === 'jumpcloud_ecs' ? doc.jumpcloud?.id : doc.event?.id;
  if (typeof id !== 'string' || id === '')
    throw new Error(`${profile} document without the event id its Id_Key reads: ${JSON.stringify(doc).slice(0, 300)}`);
  return id;
}

/** The document as the opensearch output sends it: the record + its time under Time_Key, in nanoseconds. */
export function asSent(profile: Profile, doc: Record<string, any>, rawTimestamp: string): Doc {
  const t = parseRfc3339(rawTimestamp);
  if (t === undefined) throw new Error(`not an RFC 3339 timestamp: ${rawTimestamp}`);
  return {
    id: idOf(profile, doc),
    doc: {
      ...doc,
      'jumpcloud.record_time': rawTimestamp.replace(/(\.\d+)?Z$/, (m, f?: string) => `${(f ?? '.').padEnd(10, '0')}Z`),
    },
  };
}

export interface Golden {
  readonly name: string;
  readonly input: string;
  readonly expected: Record<string, any>;
}

/** Both profiles' golden files with their raw inputs. */
export function goldens(profile: Profile): Golden[] {
  const samples = readdirSync(join(FIXTURES, 'samples'))
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.replace('.input.json', ''))
    .sort();
  if (profile === 'jumpcloud_ecs') {
    return samples.map((name) => ({
      name,
      input: read(`samples/${name}.input.json`).trim(),
      expected: JSON.parse(read(`samples/${name}.expected.json`)),
    }));
  }
  return ['seed_admin_login', ...samples].map((name) => ({
    name,
    input: read(
      name === 'seed_admin_login' ? 'elastic/seed_admin_login.input.json' : `samples/${name}.input.json`,
    ).trim(),
    expected: JSON.parse(read(`elastic/${name}.expected.json`)),
  }));
}

/** `n` simulator events (every generated service, seed 12), oldest first, as raw JSON text. */
export function generatedEvents(n: number, seed = 12): string[] {
  const fromMs = Date.parse('2026-03-01T00:00:00Z');
  const minutes = 24 * 60;
  const store = new EventStore({
    seed,
    orgs: [''],
    services: GENERATED_SERVICES,
    eventsPerMinute: Math.ceil(n / (GENERATED_SERVICES.length * minutes)) + 1,
    fromMs,
    toMs: fromMs + minutes * 60_000 - 1,
    indexDelay: { typicalMaxMs: 0, lateFraction: 0, maxMs: 0 },
  });
  const range = {
    streams: store.streamsFor([''], 'all'),
    start: parseRfc3339(new Date(fromMs).toISOString())!,
    end: parseRfc3339(new Date(fromMs + minutes * 60_000 - 1).toISOString())!,
    visibleAt: Number.MAX_SAFE_INTEGER,
  };
  const out = store.scan(range, n).map((s) => store.text(s));
  if (out.length !== n) throw new Error(`the simulator generated ${out.length} events, not ${n}`);
  return out;
}

/** One raw event through the filter, as Fluent Bit's wasm filter runs it (the record is the raw event). */
export function mapped(host: FilterHost, profile: Profile, raw: string): Doc {
  const doc = host.map(profile, raw);
  return asSent(profile, doc, (JSON.parse(raw) as { timestamp: string }).timestamp);
}
