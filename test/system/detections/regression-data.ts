// The regression data of the detections, built from detections/regression.yml: the background (the simulator's
// ordinary stream of one organization, thinned per service) and each scenario's events (scenarios/*.yaml, placed
// inside the background's window), as raw DI events and as the documents build/jumpcloud.wasm makes of them in
// each profile. Deterministic: the same spec, simulator and filter give the same bytes.
import { parseRfc3339 } from '../../../input/di/rfc3339.js';
import { CATALOG_SERVICES } from '../../../input/simulator/catalog.js';
import { EventStore } from '../../../input/simulator/events.js';
import { hashString } from '../../../input/simulator/random.js';
import { scenarioEvents } from '../../../input/simulator/scenario/events.js';
import type { FilterHost } from '../../../input/wasm/filter-host.js';
import { join } from 'node:path';
import { REPO } from '../e2e/pipeline-harness.js';
import type { BackgroundSpec, MappedProfile, Spec } from './spec.js';

/** One event: its JSON text exactly as the simulator serves it, and its time (epoch ms). */
export interface RawEvent {
  readonly text: string;
  readonly ms: number;
}

/** Whether a generated event stays in the background: a share `keep` of its service's events, by its id. */
function kept(b: BackgroundSpec, service: string, id: string): boolean {
  const keep = b.keep[service] ?? b.keepOther;
  return hashString(`keep:${id}`) / 2 ** 32 < keep;
}

/** The background's events, oldest first (the simulator's order: time, then id). */
export function backgroundEvents(spec: Spec): RawEvent[] {
  const b = spec.background;
  const toMs = b.startMs + b.durationMs - 1;
  const store = new EventStore({
    seed: spec.seed,
    orgs: [''],
    services: CATALOG_SERVICES,
    eventsPerMinute: b.rate,
    fromMs: b.startMs,
    toMs,
    indexDelay: { typicalMaxMs: 0, lateFraction: 0, maxMs: 0 },
  });
  const streams = store.streamsFor([''], 'all');
  const instant = (ms: number) => parseRfc3339(new Date(ms).toISOString())!;
  const out: RawEvent[] = [];
  store.each({ streams, start: instant(b.startMs), end: instant(toMs), visibleAt: Infinity }, (s) => {
    if (kept(b, store.serviceOf(s.stream), s.id)) out.push({ text: store.text(s), ms: s.ms });
    return true;
  });
  return out;
}

/** A scenario's events (a file relative to the repository), oldest first, starting at the spec's scenario start. */
export function scenarioCaseEvents(spec: Spec, file: string): RawEvent[] {
  return scenarioEvents(join(REPO, file), {
    start: spec.scenariosStartMs,
    seed: spec.seed,
    providerId: spec.provider,
  }).map((e) => ({ text: e.event, ms: e.ms }));
}

/**
 * The document the filter makes of a raw event in a profile, as its JSON text. The record is what the collector
 * forwards to Fluent Bit ({"message": <the raw event's text>}); a record the filter cannot map fails here, loudly:
 * regression data is never a pipeline_error.
 */
export function mapEvent(host: FilterHost, profile: MappedProfile, raw: string): string {
  const doc = host.call(profile, JSON.stringify({ message: raw }));
  const parsed = JSON.parse(doc) as { event?: { kind?: string }; error?: { message?: string } };
  if (parsed.event?.kind === 'pipeline_error') {
    throw new Error(`${profile} could not map an event (${parsed.error?.message}): ${raw.slice(0, 300)}`);
  }
  return doc;
}

/** NDJSON text of lines (one per line, a final newline; empty for none). */
export const ndjson = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');
