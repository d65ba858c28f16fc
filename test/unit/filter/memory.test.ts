// One module instance lives for the whole Fluent Bit process: memory must stay flat however many records pass.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { FilterHost } from '../../../input/wasm/filter-host.js';

const dir = new URL('../../../fixtures/samples/', import.meta.url);
const records = readdirSync(dir)
  .filter((f) => f.endsWith('.input.json'))
  .map((f) => JSON.stringify({ message: readFileSync(new URL(f, dir), 'utf8').trim() }));

describe('filter memory', () => {
  it('stays at its steady size over 200,000 calls of each profile', () => {
    const host = new FilterHost();
    const enc = new TextEncoder();
    const bytes = records.map((r) => enc.encode(r));
    // Warm up: buffers reach their working size.
    for (let i = 0; i < 2000; i++)
      host.callBytes(i % 2 ? 'jumpcloud_ecs' : 'jumpcloud_elastic', bytes[i % bytes.length]!);
    const steady = host.memoryBytes;
    for (let i = 0; i < 200_000; i++)
      host.callBytes(i % 2 ? 'jumpcloud_ecs' : 'jumpcloud_elastic', bytes[i % bytes.length]!);
    expect(host.memoryBytes).toBe(steady);
    expect(steady).toBeLessThanOrEqual(1 << 20);
  });

  it('returns to its size after a 1 MB record and a 10,000-deep one', () => {
    const host = new FilterHost();
    const enc = new TextEncoder();
    const big = enc.encode(
      JSON.stringify({ message: JSON.stringify({ event_type: 'x', id: 'a', blob: 'y'.repeat(1 << 20) }) }),
    );
    const deep = enc.encode(
      JSON.stringify({ message: '{"event_type":"x","n":' + '['.repeat(10000) + ']'.repeat(10000) + '}' }),
    );
    for (let i = 0; i < 20; i++) {
      host.callBytes('jumpcloud_elastic', big);
      host.callBytes('jumpcloud_ecs', deep);
    }
    const after = host.memoryBytes;
    for (let i = 0; i < 300; i++) {
      host.callBytes('jumpcloud_elastic', big);
      host.callBytes('jumpcloud_ecs', deep);
    }
    expect(host.memoryBytes).toBe(after);
  });
});
