// The demo's in-process mapping (the wasm-filter ABI host as a ForwardClient) and its readable view.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactLine, createEcsView } from '../../../input/demo/ecs-view.js';
import { createLocalFilter } from '../../../input/demo/local-filter.js';
import { FilterHost } from '../../../input/wasm/filter-host.js';
import type { MessageBatch } from '../../../input/types.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-demo-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const raw = readFileSync(new URL('../../../fixtures/samples/admin_login.input.json', import.meta.url), 'utf8').trim();
const expected = JSON.parse(
  readFileSync(new URL('../../../fixtures/samples/admin_login.expected.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function batch(events: string[]): MessageBatch {
  const parts = events.map((e) => Buffer.from(e, 'utf8'));
  const body = Buffer.concat(parts);
  const start = new Uint32Array(parts.length);
  const end = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => {
    start[i] = at;
    at += p.length;
    end[i] = at;
  });
  return {
    length: parts.length,
    body,
    start,
    end,
    sec: new Uint32Array(parts.length).fill(1_686_924_405),
    nsec: new Uint32Array(parts.length),
  };
}

describe('demo in-process mapping', () => {
  it('writes the document Fluent Bit would produce, once per event, before the send resolves', async () => {
    const path = join(dir, 'a.ndjson');
    const seen: string[] = [];
    const local = createLocalFilter({
      functionName: 'jumpcloud_ecs',
      ndjsonPath: path,
      onDocument: (d) => seen.push(d),
    });
    let encoded = false;
    await local.send('jumpcloud.directory', batch([raw, raw]), { onEncoded: () => (encoded = true) });
    expect(encoded).toBe(true);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([expected, expected]);
    expect(seen).toEqual(lines);
    // Same bytes as the harness gives for {"message": raw}.
    expect(lines[0]).toBe(new FilterHost().call('jumpcloud_ecs', JSON.stringify({ message: raw })));
    await local.send('jumpcloud.directory', [{ time: { sec: 1, nsec: 0 }, record: { message: raw } }]);
    expect(local.documents).toBe(3);
    expect(await local.close()).toBe(true);
    await expect(local.send('jumpcloud.directory', batch([raw]))).rejects.toThrow(/closed/);
  });

  it('keeps a record the module cannot map, annotated with why (nothing is dropped)', async () => {
    const path = join(dir, 'b.ndjson');
    const local = createLocalFilter({ functionName: 'no_such_function', ndjsonPath: path });
    await local.send('jumpcloud.directory', batch([raw]));
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { message: string; error: { message: string } };
    expect(doc.message).toBe(raw);
    expect(doc.error.message).toMatch(/demo: mapping failed: the module exports no function no_such_function/);
    expect(local.failures).toBe(1);
    await local.close();
  });
});

describe('demo view', () => {
  it('one compact line: time, tag, action, outcome, user, source', () => {
    const line = compactLine(JSON.stringify(expected), 'jumpcloud.directory');
    expect(line).toMatch(
      /^2023-06-16T14:06:45\.921000Z  jumpcloud\.directory\s+admin_login_attempt\s+success\s+user=john\.doe@sekoia\.io  src=1\.2\.3\.4$/,
    );
    expect(compactLine('not json', 'jumpcloud.sso')).toMatch(/\(not JSON\) not json/);
  });

  it('shows at most N lines a second and counts the rest, naming the file', () => {
    let out = '';
    let now = 10_000;
    const view = createEcsView({ write: (s: string) => (out += s) }, '/tmp/x.ndjson', 2, () => now);
    for (let i = 0; i < 5; i++) view.show(JSON.stringify(expected), 'jumpcloud.directory');
    now += 1000;
    view.show(JSON.stringify(expected), 'jumpcloud.directory');
    view.flush();
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe('   … 3 more documents (all in /tmp/x.ndjson)');
  });

  it("always shows a scenario's documents, after its mark", () => {
    let out = '';
    const mark = (doc: string): string | undefined => (doc.includes('"pinned"') ? '★ spray' : undefined);
    const view = createEcsView({ write: (s: string) => (out += s) }, '/tmp/x.ndjson', 1, () => 0, mark);
    for (let i = 0; i < 3; i++) view.show(JSON.stringify(expected), 'jumpcloud.directory');
    view.show(JSON.stringify({ ...expected, tags: ['pinned'] }), 'jumpcloud.directory');
    view.flush();
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^★ spray 2023-06-16T14:06:45\.921000Z  jumpcloud\.directory\s+admin_login_attempt/);
    expect(lines[2]).toBe('   … 2 more documents (all in /tmp/x.ndjson)');
  });
});
