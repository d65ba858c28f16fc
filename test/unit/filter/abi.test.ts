// The module as Fluent Bit's WAMR sees it (spec/fluent-bit.md): no imports, the AssemblyScript runtime
// exported, no SIMD, results owned by the module, NUL-terminated and valid until the next call.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { FilterHost, WASM_PATH } from '../../../input/wasm/filter-host.js';
import { prng } from '../../../input/simulator/render.js';

let host: FilterHost;

beforeAll(() => {
  host = new FilterHost();
});

const raw = readFileSync(new URL('../../../fixtures/samples/admin_login.input.json', import.meta.url), 'utf8').trim();

describe('filter ABI', () => {
  it('imports nothing', () => {
    expect(WebAssembly.Module.imports(host.module)).toStrictEqual([]);
  });

  it('exports both filters with the wasm-filter signature and the malloc/free WAMR copies records in with', () => {
    const exports = Object.fromEntries(WebAssembly.Module.exports(host.module).map((e) => [e.name, e.kind]));
    for (const f of ['jumpcloud_ecs', 'jumpcloud_elastic', 'malloc', 'free']) expect(exports[f]).toBe('function');
    // WAMR resolves malloc and __new into the same slot: exporting both would leave the choice to export order.
    for (const f of ['__new', '__pin', '__unpin']) expect(exports[f]).toBeUndefined();
    expect((host.exports.malloc as Function).length).toBe(1);
    expect((host.exports.free as Function).length).toBe(1);
    expect(exports.memory).toBe('memory');
    expect((host.exports.jumpcloud_ecs as Function).length).toBe(6);
    expect((host.exports.jumpcloud_elastic as Function).length).toBe(6);
  });

  it('uses no SIMD (WAMR refuses to load it)', () => {
    const wat = readFileSync(WASM_PATH.replace(/\.wasm$/, '.wat'), 'utf8');
    expect(wat).not.toMatch(/v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2/);
    expect(wat).not.toMatch(/\(import /);
  });

  it('returns a NUL-terminated buffer that stays valid until the next call', () => {
    const f = host.exports.jumpcloud_ecs as (...a: number[]) => number;
    const enc = new TextEncoder();
    const put = (b: Uint8Array): number => {
      const p = host.alloc(b.length + 1);
      const m = new Uint8Array(host.exports.memory.buffer);
      m.set(b, p);
      m[p + b.length] = 0;
      return p;
    };
    const tag = enc.encode('jumpcloud.directory');
    const rec = enc.encode(JSON.stringify({ message: raw }));
    const tp = put(tag),
      rp = put(rec);
    const out = f(tp, tag.length, 1, 2, rp, rec.length);
    host.release(tp);
    host.release(rp);
    // Fluent Bit frees its copies before reading the result: allocate over them, then read.
    for (let i = 0; i < 50; i++) host.release(put(enc.encode('x'.repeat(4096))));
    const m = new Uint8Array(host.exports.memory.buffer);
    const end = m.indexOf(0, out);
    const doc = JSON.parse(new TextDecoder().decode(m.subarray(out, end)));
    expect(doc.jumpcloud.id).toBe('648c6c758c2ac07fa1fdee94');
  });

  it('malloc: copies handed out together never overlap, whatever their sizes and order of release', () => {
    const rnd = prng(7);
    for (let round = 0; round < 300; round++) {
      const sizes = [1 + Math.floor(rnd() * 64), Math.floor(rnd() * (round % 50 === 0 ? 400_000 : 5000))];
      const ptrs = sizes.map((n) => host.alloc(n + 1));
      const mem = new Uint8Array(host.exports.memory.buffer);
      ptrs.forEach((p, i) => mem.fill(i + 1, p, p + sizes[i]! + 1));
      ptrs.forEach((p, i) => expect(mem.subarray(p, p + sizes[i]! + 1).every((b) => b === i + 1)).toBe(true));
      (round % 2 ? ptrs : [...ptrs].reverse()).forEach((p) => host.release(p));
    }
    expect((host.map('jumpcloud_ecs', JSON.stringify({ message: raw })) as any).jumpcloud.id).toBe(
      '648c6c758c2ac07fa1fdee94',
    );
  });

  it('accepts a length that counts the NUL terminator', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ message: raw }) + '\0');
    expect((host.map('jumpcloud_ecs', bytes) as any).jumpcloud.id).toBe('648c6c758c2ac07fa1fdee94');
  });
});
