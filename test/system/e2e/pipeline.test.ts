// The whole product in a real Fluent Bit: simulator → collector → forward (threaded) → wasm filter →
// stdout + Elasticsearch `_bulk` + Splunk HEC, with the shipped fluent-bit.conf and its YAML twin.
// Every simulated event must arrive exactly once at every output, mapped as the golden files say.
// Needs FLUENT_BIT_BIN (and build/jumpcloud.wasm); otherwise it says why and skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { expected as referenceMapping } from '../../unit/filter/reference.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDocument, type IndexTemplate } from '../../unit/template/mapping-check.js';
import { REPO, skipReason } from './pipeline-harness.js';
import { DATA_STREAM, countIds, docId, runScenario, seeds, type Scenario } from './scenario.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/e2e/pipeline.test.ts skipped: ${reason}`);

/**
 * Simulated events besides the ten seeds. 10,000 by default keeps a routine run near a minute per format;
 * the acceptance run is JUMPCLOUD_E2E_EVENTS=100000 (about 3 minutes per format on 2 busy cores).
 */
const GENERATED = Number(process.env.JUMPCLOUD_E2E_EVENTS ?? 10_000);
const TIMEOUT_MS = 120_000 + GENERATED * 4;
const ES_TIME_KEY = 'jumpcloud.record_time';

/** The event time Fluent Bit carries, as the es output writes it with Time_Key_Nanos: 9 fraction digits, UTC. */
function nanosTime(rfc3339: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339)!;
  const base = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${base}.${(m[2] ?? '').padEnd(9, '0')}Z`;
}

/** RFC 3339 → epoch seconds with the fraction, as a double. */
function epochSeconds(rfc3339: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339)!;
  return Date.parse(`${m[1]}${m[3]}`) / 1000 + Number(`0.${m[2] ?? '0'}`);
}

function expectedDoc(
  doc: Record<string, unknown>,
  golden: Map<string, Record<string, unknown>>,
): Record<string, unknown> | undefined {
  const id = docId(doc);
  if (id !== undefined && golden.has(id)) return golden.get(id);
  // A generated event: the independent reference mapping of the raw text it carries in `message`.
  return typeof doc.message === 'string'
    ? referenceMapping('ecs', JSON.stringify({ message: doc.message }))
    : undefined;
}

/**
 * Documents that differ from what they should be (first few, with both sides), checked without vitest per item (150k
 * docs).
 */
function mismatches(docs: Iterable<Record<string, unknown>>, want: (d: Record<string, unknown>) => unknown): unknown[] {
  const bad: unknown[] = [];
  for (const d of docs) {
    const w = want(d);
    if (!isDeepStrictEqual(d, w) && bad.length < 3) bad.push({ got: d, want: w });
  }
  return bad;
}

describe.skipIf(reason !== undefined).each(['conf', 'yaml'] as const)(
  'the shipped fluent-bit.%s in a real Fluent Bit',
  (format) => {
    let s: Scenario;
    const golden = new Map(seeds().map((x) => [x.id, x.golden]));

    beforeAll(async () => {
      s = await runScenario({
        format,
        outputs: ['stdout', 'es', 'splunk'],
        generated: GENERATED,
        collectorTimeoutMs: TIMEOUT_MS,
      });
      expect(s.collector.code, `collector stderr:\n${s.collector.stderr.slice(-3000)}`).toBe(0);
      const n = s.expectedIds.length;
      await s.fb.waitFor(
        () => s.fb.stdoutDocs.length >= n && s.bulk.storedCount() >= n && s.hec.events.length >= n,
        TIMEOUT_MS,
        `${n} documents at every output`,
      );
      const deliveredMs = Date.now() - s.startedAt;
      // Anything sent twice would arrive within a flush or two: give it the time, then stop Fluent Bit.
      await new Promise((r) => setTimeout(r, 3_000));
      const code = await s.fb.stop();
      console.warn(
        `e2e ${format}: ${n} events (${n - 10} generated + 10 seeds); collector done (all acked) in ` +
          `${s.collectorMs} ms ` +
          `(${Math.round((n * 1000) / s.collectorMs)} events/s); all at stdout + _bulk + HEC after ${deliveredMs} ms ` +
          `(${Math.round((n * 1000) / deliveredMs)} events/s); ${s.bulk.requests.length} _bulk and ` +
          `${s.hec.requests.length} HEC requests; Fluent Bit exit ${code}`,
      );
    }, TIMEOUT_MS * 2);

    afterAll(async () => {
      await s?.close();
      s = undefined as unknown as Scenario; // release ~150k documents before the next format runs
    });

    it('the simulator served the seeds and the generated events', () => {
      expect(s.expectedIds.length).toBeGreaterThanOrEqual(10 + GENERATED * 0.9);
      for (const id of golden.keys()) expect(s.expectedIds).toContain(id);
    });

    it('stdout: every event once, exactly the golden / reference document, nothing else on stdout', () => {
      expect(s.fb.stdoutJunk).toEqual([]);
      const counts = countIds(s.fb.stdoutDocs);
      expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
      expect(new Set(counts.keys())).toEqual(new Set(s.expectedIds));
      expect(mismatches(s.fb.stdoutDocs, (d) => expectedDoc(d, golden))).toEqual([]);
      const wrongTime = s.fb.stdoutDocs.filter(
        (d) => JSON.parse(d.message as string).timestamp !== s.expectedTimestamps.get(docId(d)!),
      );
      expect(wrongTime.slice(0, 3)).toEqual([]);
    });

    it('Elasticsearch: valid NDJSON, create into the data stream, _id = event id, every event once as golden', () => {
      expect(s.bulk.requests.length).toBeGreaterThan(0);
      for (const r of s.bulk.requests) {
        expect(r.path).toBe('/_bulk');
        expect(r.contentType).toBe('application/x-ndjson');
        expect(r.contentEncoding).toBe('gzip');
        expect(r.status).toBe(200);
      }
      // The receiver parsed every action and document line strictly (NDJSON, final newline, no duplicate
      // key such as a second @timestamp): any failure would be a non-201 item here.
      const items = s.bulk.items();
      expect(items.filter((i) => i.status !== 201).slice(0, 3)).toEqual([]);
      const badItems = items.filter(
        (i) =>
          i.op !== 'create' ||
          i.index !== DATA_STREAM ||
          i.id !== docId(i.source!) ||
          !isDeepStrictEqual(JSON.parse(i.actionLine), { create: { _index: DATA_STREAM, _id: i.id } }),
      );
      expect(badItems.slice(0, 3)).toEqual([]);
      const stored = s.bulk.documents(DATA_STREAM);
      expect(stored.size).toBe(s.expectedIds.length);
      expect(items.length).toBe(s.expectedIds.length);
      const docs = s.expectedIds.map((id) => stored.get(id)!);
      const wrongTime = docs.filter((d) => d[ES_TIME_KEY] !== nanosTime(s.expectedTimestamps.get(docId(d)!)!));
      expect(wrongTime.slice(0, 3)).toEqual([]);
      const withoutTimeKey = docs.map((d) => {
        const { [ES_TIME_KEY]: _t, ...rest } = d;
        return rest;
      });
      expect(mismatches(withoutTimeKey, (d) => expectedDoc(d, golden))).toEqual([]);
    });

    it('every document Elasticsearch received fits the shipped index template', () => {
      const template = JSON.parse(
        readFileSync(join(REPO, 'templates/elasticsearch-index-template.json'), 'utf8'),
      ) as IndexTemplate;
      const problems: unknown[] = [];
      for (const d of s.bulk.documents(DATA_STREAM).values()) {
        for (const p of checkDocument(template, d)) if (problems.length < 5) problems.push({ id: docId(d), ...p });
      }
      expect(problems).toEqual([]);
    });

    it('Splunk HEC: token, sourcetype, every event once as golden, time = event time', () => {
      for (const r of s.hec.requests) {
        expect(r.path).toBe('/services/collector/event');
        expect(r.authorization).toBe(`Splunk ${s.hec.token}`);
        expect(r.status).toBe(200);
      }
      const events = s.hec.events;
      const counts = countIds(events.map((e) => e.event as Record<string, unknown>));
      expect([...counts.values()].filter((c) => c !== 1)).toEqual([]);
      expect(new Set(counts.keys())).toEqual(new Set(s.expectedIds));
      expect(
        events
          .filter((e) => e.sourcetype !== 'jumpcloud:directory_insights' || e.source !== 'fluent-bit-jumpcloud')
          .slice(0, 3),
      ).toEqual([]);
      expect(
        mismatches(
          events.map((e) => e.event as Record<string, unknown>),
          (d) => expectedDoc(d, golden),
        ),
      ).toEqual([]);
      // HEC time is epoch seconds as a double: equal to the event time (nanoseconds) within a double's precision.
      const wrongTime = events.filter(
        (e) =>
          !(
            Math.abs(e.time! - epochSeconds(s.expectedTimestamps.get(docId(e.event as Record<string, unknown>)!)!)) <
            2e-6
          ),
      );
      expect(wrongTime.slice(0, 3)).toEqual([]);
    });

    it('Fluent Bit logged no filter failure and no output error', () => {
      const err = s.fb.stderr();
      expect(err).not.toMatch(/Got exception running wasm code/);
      expect(err).not.toMatch(/\[(error|warn)\] \[output:/);
    });
  },
);
