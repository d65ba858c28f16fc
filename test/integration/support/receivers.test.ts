// The fake Elasticsearch and Splunk servers the end-to-end suite relies on, tested on their own
// (no Fluent Bit needed): if they accepted what the real ones refuse, the e2e assertions would be worthless.
import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { BulkReceiver } from '../../support/bulk-receiver.js';
import { HecReceiver } from '../../support/hec-receiver.js';
import { parseStrict, splitConcatenated, JsonTextError } from '../../support/json-text.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function bulk(): Promise<BulkReceiver> {
  const r = await BulkReceiver.start();
  closers.push(() => r.close());
  return r;
}
async function hec(): Promise<HecReceiver> {
  const r = await HecReceiver.start();
  closers.push(() => r.close());
  return r;
}

const ndjson = (lines: unknown[]): string => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
const DS = 'logs-jumpcloud.directory_insights-default';

async function postBulk(r: BulkReceiver, body: string | Buffer, headers: Record<string, string> = {}, path = '/_bulk') {
  const res = await fetch(r.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('json-text', () => {
  it('parseStrict agrees with JSON.parse on any JSON text', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseStrict(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a duplicate key with its path, which JSON.parse accepts', () => {
    const text = '{"a":{"b":1},"@timestamp":"x","c":[{"d":1,"d":2}],"@timestamp":"y"}';
    expect(() => JSON.parse(text)).not.toThrow();
    expect(() => parseStrict(text)).toThrow(/duplicate key "c\.d"/);
    expect(() => parseStrict('{"@timestamp":1,"@timestamp":2}')).toThrow(JsonTextError);
  });

  it('rejects malformed text', () => {
    for (const bad of ['{', '{"a":}', '[1,]', '{"a":1}x', '"\u0001"', 'tru'])
      expect(() => parseStrict(bad)).toThrow(JsonTextError);
  });

  it('splits concatenated values back into the texts that were joined', () => {
    fc.assert(
      fc.property(fc.array(fc.json(), { maxLength: 8 }), fc.constantFrom('', '\n', ' \r\n '), (texts, sep) => {
        const parts = splitConcatenated(texts.join(sep + (sep === '' ? ' ' : '')));
        expect(parts.map((p) => JSON.parse(p))).toEqual(texts.map((t) => JSON.parse(t)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('BulkReceiver', () => {
  it('indexes NDJSON creates into a data stream and answers per item like Elasticsearch', async () => {
    const r = await bulk();
    const { status, json } = await postBulk(
      r,
      ndjson([
        { create: { _index: DS, _id: 'a' } },
        { '@timestamp': '2023-06-16T14:06:45Z', n: 1 },
        { create: { _index: DS, _id: 'b' } },
        { '@timestamp': '2023-06-16T14:06:46Z', n: 2 },
      ]),
    );
    expect(status).toBe(200);
    expect(json.errors).toBe(false);
    expect(json.items.map((i: any) => [i.create._id, i.create.status, i.create.result])).toEqual([
      ['a', 201, 'created'],
      ['b', 201, 'created'],
    ]);
    expect([...r.documents(DS).keys()]).toEqual(['a', 'b']);
    expect(r.items().map((i) => [i.op, i.index, i.id, i.status])).toEqual([
      ['create', DS, 'a', 201],
      ['create', DS, 'b', 201],
    ]);
    expect(r.requests[0]!.contentType).toBe('application/x-ndjson');
  });

  it('answers 409 for a create of an _id that exists and keeps the first document', async () => {
    const r = await bulk();
    await postBulk(r, ndjson([{ create: { _index: DS, _id: 'a' } }, { '@timestamp': 't', v: 1 }]));
    const { json } = await postBulk(r, ndjson([{ create: { _index: DS, _id: 'a' } }, { '@timestamp': 't', v: 2 }]));
    expect(json.errors).toBe(true);
    expect(json.items[0].create.status).toBe(409);
    expect(json.items[0].create.error.type).toBe('version_conflict_engine_exception');
    expect(r.documents(DS).get('a')).toEqual({ '@timestamp': 't', v: 1 });
  });

  it('refuses index ops and documents without @timestamp in a data stream, accepts index ops in an index', async () => {
    const r = await bulk();
    const { json } = await postBulk(
      r,
      ndjson([
        { index: { _index: DS, _id: 'a' } },
        { '@timestamp': 't' },
        { create: { _index: DS, _id: 'b' } },
        { no: 'time' },
        { index: { _index: 'plain', _id: 'c' } },
        { v: 1 },
        { index: { _index: 'plain', _id: 'c' } },
        { v: 2 },
      ]),
    );
    expect(json.items.map((i: any) => Object.values(i)[0] as any).map((i: any) => i.status)).toEqual([
      400, 400, 201, 200,
    ]);
    expect(r.documents('plain').get('c')).toEqual({ v: 2 });
    expect(r.storedCount()).toBe(1);
  });

  it('rejects a document with a duplicate key (e.g. two @timestamp) as an item error', async () => {
    const r = await bulk();
    const body = `{"create":{"_index":"${DS}","_id":"a"}}\n{"@timestamp":"x","@timestamp":"y"}\n`;
    const { json } = await postBulk(r, body);
    expect(json.errors).toBe(true);
    expect(json.items[0].create.status).toBe(400);
    expect(json.items[0].create.error.reason).toMatch(/duplicate key "@timestamp"/);
    expect(r.storedCount()).toBe(0);
  });

  it('fails the whole request on a missing final newline, a bad action line or a mapping type', async () => {
    const r = await bulk();
    expect((await postBulk(r, ndjson([{ create: { _index: DS } }, { '@timestamp': 't' }]).trimEnd())).status).toBe(400);
    expect((await postBulk(r, '{"create":\n{}\n')).status).toBe(400);
    expect((await postBulk(r, ndjson([{ upsert: { _index: DS } }, {}]))).status).toBe(400);
    expect((await postBulk(r, ndjson([{ create: { _index: DS, _type: '_doc' } }, { '@timestamp': 't' }]))).status).toBe(
      400,
    );
    expect((await postBulk(r, ndjson([{ create: {} }, { '@timestamp': 't' }]))).status).toBe(400);
    expect(r.storedCount()).toBe(0);
  });

  it('uses the index of the path and generates an _id when none is given', async () => {
    const r = await bulk();
    const { json } = await postBulk(r, ndjson([{ create: {} }, { '@timestamp': 't' }]), {}, `/${DS}/_bulk`);
    expect(json.items[0].create._index).toBe(DS);
    expect(json.items[0].create._id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.items()[0]!.id).toBeUndefined();
  });

  it('reads gzip bodies', async () => {
    const r = await bulk();
    const { json } = await postBulk(
      r,
      gzipSync(ndjson([{ create: { _index: DS, _id: 'z' } }, { '@timestamp': 't', s: 'Zoë ☃' }])),
      { 'content-encoding': 'gzip' },
    );
    expect(json.errors).toBe(false);
    expect(r.documents(DS).get('z')).toEqual({ '@timestamp': 't', s: 'Zoë ☃' });
  });

  it('injects whole-request statuses, then works again', async () => {
    const r = await bulk();
    r.failNextRequests(2, 429);
    const body = ndjson([{ create: { _index: DS, _id: 'a' } }, { '@timestamp': 't' }]);
    expect((await postBulk(r, body)).status).toBe(429);
    const second = await postBulk(r, body);
    expect(second.status).toBe(429);
    expect(second.json.error.type).toBe('es_rejected_execution_exception');
    expect((await postBulk(r, body)).status).toBe(200);
    expect(r.requests.map((q) => q.status)).toEqual([429, 429, 200]);
    expect(r.storedCount()).toBe(1);
  });

  it('injects an item error by global item number; the other items are stored', async () => {
    const r = await bulk();
    r.failItem(1, { status: 429 });
    const { json } = await postBulk(
      r,
      ndjson([
        { create: { _index: DS, _id: 'a' } },
        { '@timestamp': 't' },
        { create: { _index: DS, _id: 'b' } },
        { '@timestamp': 't' },
        { create: { _index: DS, _id: 'c' } },
        { '@timestamp': 't' },
      ]),
    );
    expect(json.errors).toBe(true);
    expect(json.items.map((i: any) => i.create.status)).toEqual([201, 429, 201]);
    expect(json.items[1].create.error.type).toBe('es_rejected_execution_exception');
    expect([...r.documents(DS).keys()].sort()).toEqual(['a', 'c']);
  });

  it('fails every item of the next request when asked, then stores the same items on a resend', async () => {
    const r = await bulk();
    r.failAllItemsOfNextRequests(1, { status: 429 });
    const body = ndjson([
      { create: { _index: DS, _id: 'a' } },
      { '@timestamp': 't' },
      { create: { _index: DS, _id: 'b' } },
      { '@timestamp': 't' },
    ]);
    const first = await postBulk(r, body);
    expect(first.status).toBe(200);
    expect(first.json.errors).toBe(true);
    expect(first.json.items.map((i: any) => i.create.status)).toEqual([429, 429]);
    expect(r.storedCount()).toBe(0);
    expect((await postBulk(r, body)).json.errors).toBe(false);
    expect(r.items().map((i) => `${i.id}:${i.status}`)).toEqual(['a:429', 'b:429', 'a:201', 'b:201']);
  });

  it('checks credentials when configured', async () => {
    const r = await BulkReceiver.start({ authorization: 'ApiKey c2VjcmV0' });
    closers.push(() => r.close());
    const body = ndjson([{ create: { _index: DS, _id: 'a' } }, { '@timestamp': 't' }]);
    expect((await postBulk(r, body)).status).toBe(401);
    expect((await postBulk(r, body, { authorization: 'ApiKey c2VjcmV0' })).status).toBe(200);
  });

  it('stores any set of documents exactly as sent (property)', async () => {
    const r = await bulk();
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\u0000-\u001f]/.test(s)),
          { minLength: 1, maxLength: 20 },
        ),
        fc.jsonValue(),
        async (ids, payload) => {
          const index = `logs-p-${r.requests.length}`;
          const lines: unknown[] = [];
          for (const id of ids) lines.push({ create: { _index: index, _id: id } }, { '@timestamp': 't', payload, id });
          const { json } = await postBulk(r, ndjson(lines));
          expect(json.errors).toBe(false);
          const docs = r.documents(index);
          expect(docs.size).toBe(ids.length);
          for (const id of ids)
            expect(docs.get(id)).toEqual(JSON.parse(JSON.stringify({ '@timestamp': 't', payload, id })));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('waitFor resolves when a request makes the condition true, and times out otherwise', async () => {
    const r = await bulk();
    const waiting = r.waitFor(() => r.storedCount() === 1, 5_000, 'one document');
    await postBulk(r, ndjson([{ create: { _index: DS, _id: 'a' } }, { '@timestamp': 't' }]));
    await waiting;
    await expect(r.waitFor(() => false, 300, 'never')).rejects.toThrow(/timed out after 300 ms waiting for never/);
  });
});

describe('HecReceiver', () => {
  async function postHec(
    r: HecReceiver,
    body: string | Buffer,
    token: string | null = r.token,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(r.url + '/services/collector/event', {
      method: 'POST',
      headers: { ...(token === null ? {} : { authorization: `Splunk ${token}` }), ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  it('accepts a batch of concatenated events with their metadata', async () => {
    const r = await hec();
    const body =
      JSON.stringify({
        time: 1686924405.921,
        sourcetype: 'jumpcloud:directory_insights',
        source: 's',
        index: 'main',
        event: { a: 1 },
      }) +
      '\n' +
      JSON.stringify({ time: '1686924406', event: 'text', host: 'h' });
    const { status, json } = await postHec(r, body);
    expect(status).toBe(200);
    expect(json).toEqual({ text: 'Success', code: 0 });
    expect(r.events.map((e) => [e.time, e.sourcetype, e.index, e.host, e.event])).toEqual([
      [1686924405.921, 'jumpcloud:directory_insights', 'main', undefined, { a: 1 }],
      [1686924406, undefined, undefined, 'h', 'text'],
    ]);
  });

  it('checks the token: 401 without, 403 when unknown', async () => {
    const r = await hec();
    const body = JSON.stringify({ event: 'x' });
    expect(await postHec(r, body, null)).toEqual({ status: 401, json: { text: 'Token is required', code: 2 } });
    expect(await postHec(r, body, 'nope')).toEqual({ status: 403, json: { text: 'Invalid token', code: 4 } });
    expect(r.events).toHaveLength(0);
  });

  it('refuses the whole batch on one bad event, like Splunk, and says which', async () => {
    const r = await hec();
    const good = JSON.stringify({ event: { a: 1 } });
    expect((await postHec(r, good + JSON.stringify({ time: 1 }))).json).toEqual({
      text: 'Event field is required',
      code: 12,
      'invalid-event-number': 1,
    });
    expect((await postHec(r, good + JSON.stringify({ event: '' }))).json.code).toBe(13);
    expect((await postHec(r, good + '{"event":')).json).toEqual({
      text: 'Invalid data format',
      code: 6,
      'invalid-event-number': 0,
    });
    expect((await postHec(r, '')).json).toEqual({ text: 'No data', code: 5 });
    expect(r.events).toHaveLength(0);
  });

  it('reads gzip bodies and injects busy answers', async () => {
    const r = await hec();
    r.failNextRequests(1, 503);
    const body = gzipSync(JSON.stringify({ event: { s: 'Zoë' } }));
    expect((await postHec(r, body, r.token, { 'content-encoding': 'gzip' })).json).toEqual({
      text: 'Server is busy',
      code: 9,
    });
    expect((await postHec(r, body, r.token, { 'content-encoding': 'gzip' })).status).toBe(200);
    expect(r.events.map((e) => e.event)).toEqual([{ s: 'Zoë' }]);
    expect(r.requests.map((q) => q.status)).toEqual([503, 200]);
  });
});
