// The documented profile switch in a real Fluent Bit: function_name jumpcloud_elastic plus the es
// output's Id_Key $event['id']. Every event reaches Elasticsearch once under its own _id, mapped as the
// reference mapping of the elastic profile says, and every document fits the shipped index template.
// Needs FLUENT_BIT_BIN; otherwise it says why and skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expected as referenceMapping } from '../../unit/filter/reference.js';
import { checkDocument, type IndexTemplate } from '../../unit/template/mapping-check.js';
import { REPO, skipReason } from './pipeline-harness.js';
import { DATA_STREAM, countIds, runScenario, type Scenario } from './scenario.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/e2e/elastic-profile.test.ts skipped: ${reason}`);

const TIMEOUT_MS = 60_000;
const ES_TIME_KEY = 'jumpcloud.record_time';

describe.skipIf(reason !== undefined).each(['conf', 'yaml'] as const)(
  'profile jumpcloud_elastic with fluent-bit.%s',
  (format) => {
    let s: Scenario;
    beforeAll(async () => {
      s = await runScenario({
        format,
        profile: 'elastic',
        outputs: ['stdout', 'es'],
        generated: 1_000,
        collectorTimeoutMs: TIMEOUT_MS,
      });
      expect(s.collector.code, s.collector.stderr.slice(-2000)).toBe(0);
      const n = s.expectedIds.length;
      await s.fb.waitFor(() => s.bulk.storedCount() >= n && s.fb.stdoutDocs.length >= n, TIMEOUT_MS, `${n} documents`);
      await new Promise((r) => setTimeout(r, 2_000));
      await s.fb.stop();
    }, TIMEOUT_MS * 2);
    afterAll(async () => {
      await s?.close();
    });

    it('every event once in Elasticsearch, _id = event.id, as the reference mapping says', () => {
      const stored = s.bulk.documents(DATA_STREAM);
      expect(new Set(stored.keys())).toEqual(new Set(s.expectedIds));
      expect(
        s.bulk
          .items()
          .filter((i) => i.status !== 201 || i.id !== (i.source?.event as { id?: string }).id)
          .slice(0, 3),
      ).toEqual([]);
      const bad: unknown[] = [];
      for (const [id, d] of stored) {
        const { [ES_TIME_KEY]: _t, ...doc } = d;
        const want = referenceMapping(
          'elastic',
          JSON.stringify({ message: (doc.event as { original: string }).original }),
        );
        if (!isDeepStrictEqual(doc, want) && bad.length < 3) bad.push({ id, got: doc, want });
      }
      expect(bad).toEqual([]);
      expect([...countIds(s.fb.stdoutDocs).values()].every((c) => c === 1)).toBe(true);
    });

    it('every stored document fits the shipped index template', () => {
      const template = JSON.parse(
        readFileSync(join(REPO, 'templates/elasticsearch-index-template.json'), 'utf8'),
      ) as IndexTemplate;
      const problems = [...s.bulk.documents(DATA_STREAM).values()].flatMap((d) => checkDocument(template, d));
      expect(problems.slice(0, 5)).toEqual([]);
    });
  },
);
