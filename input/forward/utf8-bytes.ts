// A msgpack str given as its UTF-8 bytes. The collector forwards each event's JSON as the bytes the API sent
// (a view into the page buffer): the encoder writes a str header and copies the bytes, never decoding them to a
// JS string. Same wire bytes as @msgpack/msgpack encoding the equivalent string.

/** A string value of a forward record held as UTF-8 bytes; encoded as msgpack str (not bin). */
export class Utf8Bytes {
  /** `bytes` must be valid UTF-8 (Fluent Bit treats str payloads as UTF-8 text). */
  constructor(readonly bytes: Uint8Array) {}

  /** The decoded string: for the generic encoder path and for diagnostics, never the hot path. */
  toString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8');
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * `value` with every Utf8Bytes (at any depth of plain objects and arrays) replaced by its string, so that the
 * generic encoder writes it as a str; the same reference when there is none. Deeper than @msgpack/msgpack's own
 * depth limit is left to that encoder to refuse.
 */
export function decodeUtf8Values(value: unknown, depth = 0): unknown {
  if (value instanceof Utf8Bytes) return value.toString();
  if (value === null || typeof value !== 'object' || depth > 100 || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const d = decodeUtf8Values(v, depth + 1);
      if (d !== v) (out ??= value.slice())[i] = d;
    }
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const keys = Object.keys(value);
  const values = keys.map((k) => (value as Record<string, unknown>)[k]);
  const decoded = values.map((v) => decodeUtf8Values(v, depth + 1));
  if (decoded.every((d, i) => d === values[i])) return value;
  // defineProperty, not assignment: a "__proto__" key stays a plain key.
  const out = Object.create(proto) as Record<string, unknown>;
  keys.forEach((k, i) =>
    Object.defineProperty(out, k, { value: decoded[i], enumerable: true, writable: true, configurable: true }),
  );
  return out;
}
