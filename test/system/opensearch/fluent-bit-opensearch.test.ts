// The whole product into a real OpenSearch node: simulator → collector → Fluent Bit (shipped
// fluent-bit.conf, conf/output-opensearch.conf) → wasm filter → opensearch output → node, with the node
// answering 429 to every _bulk for a while and then restarted (SIGTERM, same data) once a quarter of the
// bulks are in, while Fluent Bit is still delivering. Every event must be exactly one document, compared by id. Needs
// FLUENT_BIT_BIN (and
// the node jar, built by `mvn -q -f test/opensearch/pom.xml package`); otherwise it says why and skips.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, freePort, skipReason } from '../e2e/pipeline-harness.js';
import { DATA_STREAM, runScenario, type Scenario } from '../e2e/scenario.js';
import { count, freshDataStream, ok } from './client.js';
import { startNode, type Node } from './node.js';
import { RefusingProxy } from './refusing-proxy.js';

const reason = skipReason();
if (reason !== undefined) console.warn(`test/system/opensearch/fluent-bit-opensearch.test.ts skipped: ${reason}`);

const GENERATED = 20_000;
const REFUSE_MS = 8_000;
/** The node is restarted after this many bulks were indexed (about 1,000 documents each: a quarter of the run). */
const BULKS_BEFORE_RESTART = 5;
const DELIVERY_TIMEOUT_MS = 420_000;
const TEMPLATE = JSON.parse(readFileSync(join(REPO, 'templates/opensearch-index-template.json'), 'utf8'));

/** Every jumpcloud.id in the data stream (with multiplicity), paged by search_after. */
async function storedIds(url: string): Promise<string[]> {
  const ids: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const r = await ok(url, 'POST', `/${DATA_STREAM}/_search`, {
      size: 10_000,
      _source: false,
      track_total_hits: false,
      docvalue_fields: ['jumpcloud.id'],
      sort: [{ 'jumpcloud.id': 'asc' }, { '@timestamp': 'asc' }],
      ...(after ? { search_after: after } : {}),
    });
    const hits = r.hits.hits as Array<{ _id: string; sort: unknown[]; fields: { 'jumpcloud.id': string[] } }>;
    for (const h of hits) {
      expect(h.fields['jumpcloud.id']).toStrictEqual([h._id]);
      ids.push(h._id);
    }
    if (hits.length < 10_000) return ids;
    after = hits.at(-1)!.sort;
  }
}

describe.skipIf(reason !== undefined)(
  'Fluent Bit → opensearch output → a real OpenSearch node, through 429s and a restart',
  () => {
    let node: Node;
    let proxy: RefusingProxy;
    let s: Scenario;
    let dataDir: string;
    const figures: Record<string, number> = {};

    beforeAll(
      async () => {
        dataDir = mkdtempSync(join(tmpdir(), 'os-e2e-'));
        node = await startNode(await freePort(), dataDir);
        figures.startMs = node.startMs;
        await freshDataStream(node.url, 'logs-jumpcloud.directory_insights', TEMPLATE, DATA_STREAM);
        proxy = await RefusingProxy.start(Number(new URL(node.url).port));
        proxy.refuseBulkFor(REFUSE_MS); // from the first bulk on: Fluent Bit must retry, not drop
        // Then the node goes down at a known point: after BULKS_BEFORE_RESTART bulks are in, further ones fail as
        // a stopping node's do, and the node is stopped and started again.
        proxy.dropBulkAfter(BULKS_BEFORE_RESTART);
        s = await runScenario({
          format: 'conf',
          outputs: ['opensearch'],
          generated: GENERATED,
          collectorTimeoutMs: 180_000,
          fluentBitEnv: { OPENSEARCH_HOST: '127.0.0.1', OPENSEARCH_PORT: String(proxy.port) },
        });
        expect(s.collector.code, s.collector.stderr.slice(-2000)).toBe(0);
        figures.collectorMs = s.collectorMs;
        const n = s.expectedIds.length;
        // Mid-run: the node goes down once BULKS_BEFORE_RESTART bulks are in (and no more can be).
        const t0 = Date.now();
        while ((proxy.bulk['200'] ?? 0) < BULKS_BEFORE_RESTART) {
          if (Date.now() - t0 > DELIVERY_TIMEOUT_MS)
            throw new Error(
              `${BULKS_BEFORE_RESTART} bulks not indexed after ${DELIVERY_TIMEOUT_MS} ms; proxy saw ` +
                `${JSON.stringify(proxy.bulk)}\n${s.fb.stderr().slice(-3000)}`,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
        await ok(node.url, 'POST', `/${DATA_STREAM}/_refresh`);
        const before = await count(node.url, DATA_STREAM);
        figures.countAtRestart = before;
        await node.stop();
        const down = Date.now();
        node = await startNode(Number(new URL(node.url).port), dataDir);
        figures.downMs = Date.now() - down;
        figures.restartMs = node.startMs;
        proxy.pass();
        await ok(node.url, 'GET', '/_cluster/health?wait_for_status=yellow&timeout=60s');
        const t1 = Date.now();
        for (;;) {
          await ok(node.url, 'POST', `/${DATA_STREAM}/_refresh`);
          if ((await count(node.url, DATA_STREAM)) >= n) break;
          if (Date.now() - t1 > DELIVERY_TIMEOUT_MS) break; // the assertions below say what is missing
          await new Promise((r) => setTimeout(r, 1_000));
        }
        figures.deliveredAfterRestartMs = Date.now() - t1;
        figures.totalMs = Date.now() - s.startedAt;
        // Leave time for a duplicate to show up, if anything would send one.
        await new Promise((r) => setTimeout(r, 3_000));
        await ok(node.url, 'POST', `/${DATA_STREAM}/_refresh`);
        console.log(
          `Fluent Bit → OpenSearch: ${n} events; ${JSON.stringify(figures)}; proxy _bulk answers ` +
            `${JSON.stringify(proxy.bulk)}`,
        );
      },
      DELIVERY_TIMEOUT_MS * 2 + 300_000,
    );

    afterAll(async () => {
      await s?.close();
      await proxy?.close();
      await node?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('the node really refused bulks with 429 and was really restarted while documents were missing', () => {
      expect(proxy.bulk['429'] ?? 0).toBeGreaterThan(0);
      expect(figures.countAtRestart).toBeGreaterThan(0);
      expect(figures.countAtRestart).toBeLessThan(s.expectedIds.length);
    });

    it('every event is exactly one document, compared by id', async () => {
      const ids = await storedIds(node.url);
      const seen = new Map<string, number>();
      for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      expect([...seen].filter(([, c]) => c !== 1)).toStrictEqual([]);
      const want = new Set(s.expectedIds);
      expect(want.size).toBe(s.expectedIds.length);
      // The generator is bursty per time bucket: the count is near GENERATED, not exactly it.
      expect(s.expectedIds.length).toBeGreaterThan(GENERATED * 0.8);
      expect(s.expectedIds.filter((id) => !seen.has(id)).slice(0, 10)).toStrictEqual([]);
      expect([...seen.keys()].filter((id) => !want.has(id)).slice(0, 10)).toStrictEqual([]);
      expect(ids.length).toBe(s.expectedIds.length);
    });

    it('no document was rejected, ignored or dead-lettered', async () => {
      expect(await count(node.url, DATA_STREAM, { exists: { field: '_ignored' } })).toBe(0);
      expect(s.fb.stderr()).not.toMatch(
        /mapper_parsing_exception|document_parsing_exception|illegal_argument_exception/,
      );
    });
  },
);
