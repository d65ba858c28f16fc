// Loads the filter module with only the host behaviour Fluent Bit's wasm filter has (docs/fluent-bit.md):
// no imports; the tag and the record are copied into module memory, each followed by a NUL, with what WAMR
// finds exported (wasm_loader.c): `malloc`, else AssemblyScript's `__new(size, 0)` + `__pin`; the function is
// called; its result is read as a NUL-terminated string; the two copies are released with `free` (or
// `__unpin`). The tests use it as the contract of the ABI and the demo maps with it when no Fluent Bit
// listens: keep it exact.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../package-info.js';

/** The module `npm run build:filter` writes, in the checkout or the installed package. */
export const WASM_PATH = join(packageInfo().root, 'build', 'jumpcloud.wasm');

type FilterFn = (tag: number, tagLen: number, sec: number, nsec: number, rec: number, recLen: number) => number;

interface Exports {
  memory: WebAssembly.Memory;
  malloc?(size: number): number;
  free?(ptr: number): void;
  __new?(size: number, id: number): number;
  __pin?(ptr: number): number;
  __unpin?(ptr: number): void;
  [name: string]: unknown;
}

export class FilterHost {
  readonly module: WebAssembly.Module;
  readonly exports: Exports;
  private readonly enc = new TextEncoder();

  constructor(path: string = WASM_PATH) {
    this.module = new WebAssembly.Module(readFileSync(path));
    // Fluent Bit gives the module nothing to import that it can rely on: instantiate with none.
    const instance = new WebAssembly.Instance(this.module, {});
    this.exports = instance.exports as unknown as Exports;
  }

  /** Bytes of linear memory now. */
  get memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** WAMR's wasm_runtime_module_malloc: the exported malloc, else __new + __pin. */
  alloc(size: number): number {
    const x = this.exports;
    if (x.malloc) return x.malloc(size) >>> 0;
    if (x.__new && x.__pin) return x.__pin(x.__new(size, 0)) >>> 0;
    throw new Error(
      'the module exports neither malloc nor __new/__pin: WAMR would allocate from its own small app heap',
    );
  }

  /** WAMR's wasm_runtime_module_free: the exported free, else __unpin. */
  release(ptr: number): void {
    const x = this.exports;
    if (x.free) x.free(ptr);
    else x.__unpin!(ptr);
  }

  private copyIn(bytes: Uint8Array): number {
    const ptr = this.alloc(bytes.length + 1);
    const mem = new Uint8Array(this.exports.memory.buffer);
    mem.set(bytes, ptr);
    mem[ptr + bytes.length] = 0;
    return ptr;
  }

  /** Calls `fn` on one record (JSON text or raw bytes) and returns the result's raw bytes (before the NUL). */
  callBytes(
    fn: string,
    record: Uint8Array | string,
    tag = 'jumpcloud.directory',
    time: [number, number] = [0, 0],
  ): Uint8Array {
    const f = this.exports[fn] as FilterFn | undefined;
    if (typeof f !== 'function') throw new Error(`the module exports no function ${fn}`);
    const tagBytes = this.enc.encode(tag);
    const recBytes = typeof record === 'string' ? this.enc.encode(record) : record;
    const tagPtr = this.copyIn(tagBytes);
    const recPtr = this.copyIn(recBytes);
    try {
      const out = f(tagPtr, tagBytes.length, time[0], time[1], recPtr, recBytes.length) >>> 0;
      if (out === 0) throw new Error(`${fn} returned 0 (Fluent Bit drops the record)`);
      const mem = new Uint8Array(this.exports.memory.buffer);
      if (out >= mem.length) throw new Error(`${fn} returned an invalid pointer ${out}`);
      const end = mem.indexOf(0, out);
      if (end < 0) throw new Error(`${fn}: result is not NUL-terminated`);
      return mem.slice(out, end);
    } finally {
      this.release(tagPtr);
      this.release(recPtr);
    }
  }

  /** Calls `fn` and returns the result text (UTF-8, fatal on invalid sequences: Fluent Bit reads UTF-8). */
  call(fn: string, record: Uint8Array | string, tag?: string, time?: [number, number]): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.callBytes(fn, record, tag, time));
  }

  /** Calls `fn` and parses the result, checking it is what Fluent Bit keeps: a non-empty JSON object. */
  map(fn: string, record: Uint8Array | string, tag?: string): Record<string, unknown> {
    const text = this.call(fn, record, tag);
    if (text === '') throw new Error(`${fn} returned "" (Fluent Bit drops the record)`);
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${fn} returned JSON that is not an object: ${text.slice(0, 200)}`);
    }
    return value as Record<string, unknown>;
  }
}
