import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiBadPageError } from '../../../input/di/errors.js';
import { ESCAPED_ID, ESCAPED_TIMESTAMP, pageEventsOf } from '../../../input/di/page-events.js';
import { splitJsonArray } from '../../../input/di/page-split.js';
import type { RawEvent } from '../../../input/types.js';

/** The splitter works on the page's UTF-8 bytes, as the DI client reads them. */
function split(body: string | Uint8Array): RawEvent[] {
  return [...splitJsonArray(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)];
}

/** An element's bytes, decoded (for comparisons with the JSON text it came from). */
function text(e: RawEvent): string {
  return Buffer.from(e.raw.buffer, e.raw.byteOffset, e.raw.byteLength).toString('utf8');
}

/** Elements as {id, timestamp, text}, for toEqual. */
function texts(events: RawEvent[]): { id: string; timestamp: string; text: string }[] {
  return events.map((e) => ({ id: e.id, timestamp: e.timestamp, text: text(e) }));
}

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
/** Strings that stress the scanner: quotes, backslashes, brackets, control characters, non-ASCII. */
const nasty = fc.oneof(
  anyText,
  fc.string({
    unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', '\n', '\u0000', 'é', '😀', '\ud800', 'a', ' '),
    maxLength: 30,
  }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    nasty,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** An event object: string id and timestamp plus arbitrary other fields, keys in any order. */
const event = fc
  .tuple(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    fc.string({ minLength: 1, maxLength: 35 }),
    fc.dictionary(nasty, value, { maxKeys: 6 }),
    fc.nat(),
  )
  .map(([id, timestamp, extra, rot]) => {
    const entries = Object.entries(extra).filter(([k]) => k !== 'id' && k !== 'timestamp');
    entries.push(['id', id], ['timestamp', timestamp]);
    const r = rot % entries.length;
    const ordered = [...entries.slice(r), ...entries.slice(0, r)];
    // Build as JSON text so that keys like __proto__ stay plain keys.
    return {
      id,
      timestamp,
      json: `{${ordered.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    };
  });
const events = fc.array(event, { maxLength: 12 });

/**
 * What JSON.parse says the splitter must do with `body`: the events, or undefined for "refuse". The splitter sees
 * `body` as UTF-8 bytes, so the oracle parses what those bytes decode to (lone surrogates become U+FFFD).
 */
function oracle(body: string): { id: string; timestamp: string }[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'utf8').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: { id: string; timestamp: string }[] = [];
  for (const e of parsed) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return undefined;
    const { id, timestamp } = e as Record<string, unknown>;
    if (typeof id !== 'string' || id === '' || typeof timestamp !== 'string' || timestamp === '') return undefined;
    out.push({ id, timestamp });
  }
  return out;
}

function refuses(body: string | Uint8Array): boolean {
  try {
    split(body);
    return false;
  } catch (err) {
    if (err instanceof DiBadPageError) return true;
    throw err;
  }
}

describe('splitJsonArray', () => {
  it('returns each element with its exact text, id and timestamp', () => {
    const body =
      '[{"id":"a\\"b","timestamp":"2026-01-01T00:00:00Z","x":["]}",{"y":"\\\\"}]},' +
      '{"timestamp":"t2","n":-1.5e+3,"id":"\\u0062"}]';
    const bytes = Buffer.from(body, 'utf8');
    const got = split(bytes);
    expect(texts(got)).toEqual([
      {
        id: 'a"b',
        timestamp: '2026-01-01T00:00:00Z',
        text: '{"id":"a\\"b","timestamp":"2026-01-01T00:00:00Z","x":["]}",{"y":"\\\\"}]}',
      },
      { id: 'b', timestamp: 't2', text: '{"timestamp":"t2","n":-1.5e+3,"id":"\\u0062"}' },
    ]);
    // Views into the page's buffer, not copies.
    for (const g of got) expect(g.raw.buffer).toBe(bytes.buffer);
    expect(got[1]!.raw.byteOffset - bytes.byteOffset).toBe(body.indexOf('{"timestamp"'));
  });

  it('keeps non-ASCII bytes exact and decodes id and timestamp from UTF-8', () => {
    const el = '{"id":"é😀\\u00e9","timestamp":"2026-01-01T00:00:00Z","who":"Zoë Ünal 山田 \\ud83d\\ude00"}';
    const bytes = Buffer.from(`[${el}]`, 'utf8');
    const [got] = split(bytes);
    expect(got!.id).toBe('é😀é');
    expect(Buffer.from(got!.raw)).toEqual(Buffer.from(el, 'utf8'));
  });

  it('skips a leading UTF-8 byte order mark, as a text decoder does', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"id":"x","timestamp":"y"}]')]);
    expect(texts(split(body))).toEqual([{ id: 'x', timestamp: 'y', text: '{"id":"x","timestamp":"y"}' }]);
  });

  it('takes a plain Uint8Array as well as a Buffer', () => {
    const b = Buffer.from(' [{"id":"x","timestamp":"y"}]');
    const u8 = new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length), 1);
    expect(texts(split(u8))).toEqual([{ id: 'x', timestamp: 'y', text: '{"id":"x","timestamp":"y"}' }]);
  });

  it('accepts whitespace around tokens and an empty array', () => {
    expect(split(' [ ]\n')).toEqual([]);
    expect(texts(split('[\n  { "id" : "x" ,\t"timestamp": "y" }\r\n]'))).toEqual([
      { id: 'x', timestamp: 'y', text: '{ "id" : "x" ,\t"timestamp": "y" }' },
    ]);
  });

  it.each([
    ['empty body', ''],
    ['an error object', '{"message":"Internal Server Error"}'],
    ['HTML from a proxy', '<html><body>502 Bad Gateway</body></html>'],
    ['a truncated array', '[{"id":"a","timestamp":"b"},{"id":"c","time'],
    ['no closing bracket', '[{"id":"a","timestamp":"b"}'],
    ['a number id', '[{"id":1,"timestamp":"b"}]'],
    ['a missing timestamp', '[{"id":"a"}]'],
    ['an empty id', '[{"id":"","timestamp":"b"}]'],
    ['a nested id only', '[{"x":{"id":"a","timestamp":"b"}}]'],
    ['a non-object element', '[{"id":"a","timestamp":"b"},"x"]'],
    ['an invalid literal', '[{"id":"a","timestamp":"b","ok":tru}]'],
    ['a bad escape', '[{"id":"a\\x","timestamp":"b"}]'],
    ['a raw newline in a string', '[{"id":"a\nb","timestamp":"b"}]'],
    ['a trailing comma', '[{"id":"a","timestamp":"b"},]'],
    ['trailing data', '[{"id":"a","timestamp":"b"}] []'],
    ['a leading zero', '[{"id":"a","timestamp":"b","n":01}]'],
    ['deep unbalanced nesting', '['.repeat(200_000)],
  ])('refuses %s', (_name, body) => {
    expect(refuses(body)).toBe(true);
  });

  it('handles deeply nested values without recursion', () => {
    const deep = `[{"id":"a","timestamp":"b","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`;
    expect(split(deep)).toHaveLength(1);
  });

  it('property: spans re-parse to the elements and rejoin to the body', () => {
    fc.assert(
      fc.property(events, (evs) => {
        const body = `[${evs.map((e) => e.json).join(',')}]`;
        const bytes = Buffer.from(body, 'utf8');
        const got = split(bytes);
        expect(got.length).toBe(evs.length);
        got.forEach((g, i) => {
          expect(Buffer.from(g.raw)).toEqual(Buffer.from(evs[i]!.json, 'utf8'));
          expect(text(g)).toBe(evs[i]!.json);
          expect(JSON.parse(text(g))).toEqual(JSON.parse(evs[i]!.json));
          expect(g.id).toBe(evs[i]!.id);
          expect(g.timestamp).toBe(evs[i]!.timestamp);
          expect(g.raw.buffer).toBe(bytes.buffer);
        });
        expect(
          Buffer.concat([
            Buffer.from('['),
            ...got.flatMap((g, i) => (i === 0 ? [g.raw] : [Buffer.from(','), g.raw])),
            Buffer.from(']'),
          ]),
        ).toEqual(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('property: organization(i) is the top-level string "organization" (a nested one or another type: none)', () => {
    const org = fc.oneof(fc.constant(undefined), nasty, value);
    const withOrg = fc.tuple(event, org, fc.boolean()).map(([e, o, decoy]) => {
      const fields = [
        ...(decoy ? ['"n":{"organization":"decoy","x":["organization"]}'] : []),
        ...(o === undefined ? [] : [`"organization":${JSON.stringify(o)}`]),
      ];
      return fields.length === 0 ? e.json : `{${fields.join(',')},${e.json.slice(1)}`;
    });
    fc.assert(
      fc.property(fc.array(withOrg, { maxLength: 8 }), (jsons) => {
        const body = `[${jsons.join(',')}]`;
        const page = splitJsonArray(Buffer.from(body, 'utf8'));
        const parsed = JSON.parse(Buffer.from(body, 'utf8').toString('utf8')) as Record<string, unknown>[];
        parsed.forEach((p, i) => {
          const want = typeof p.organization === 'string' ? p.organization : undefined;
          expect(page.organization(i)).toBe(want);
        });
      }),
      { numRuns: 400 },
    );
    // An escaped id in "organization" decodes as JSON.
    const page = splitJsonArray(Buffer.from('[{"id":"a","timestamp":"t","organization":"5f\\u0030a"}]', 'utf8'));
    expect(page.organization(0)).toBe('5f0a');
  });

  it('property: pretty-printed arrays split into elements that parse to the same values', () => {
    fc.assert(
      fc.property(events, (evs) => {
        const values = evs.map((e) => JSON.parse(e.json) as unknown);
        const got = split(JSON.stringify(values, null, 2));
        expect(got.map((g) => JSON.parse(text(g)) as unknown)).toEqual(values);
        expect(got.map((g) => g.id)).toEqual(evs.map((e) => e.id));
      }),
      { numRuns: 200 },
    );
  });

  it('property: every truncation of a non-empty page is refused (at any byte, inside characters too)', () => {
    fc.assert(
      fc.property(
        events.filter((e) => e.length > 0),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (evs, f) => {
          const body = Buffer.from(`[${evs.map((e) => e.json).join(',')}]`, 'utf8');
          const cut = Math.min(body.length - 1, Math.floor(f * body.length));
          expect(refuses(body.subarray(0, cut))).toBe(true);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('property: a mutated page is split exactly when JSON.parse accepts it as a page, else refused', () => {
    const mutation = fc.tuple(
      fc.nat(),
      fc.constantFrom('delete', 'insert', 'replace'),
      fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'x', '1', ' ', '\u0001', '-', 'e', 'n'),
    );
    fc.assert(
      fc.property(events, fc.array(mutation, { minLength: 1, maxLength: 3 }), (evs, muts) => {
        let body = `[${evs.map((e) => e.json).join(',')}]`;
        for (const [pos, op, ch] of muts) {
          const p = body.length === 0 ? 0 : pos % (body.length + (op === 'insert' ? 1 : 0));
          body =
            op === 'delete'
              ? body.slice(0, p) + body.slice(p + 1)
              : op === 'insert'
                ? body.slice(0, p) + ch + body.slice(p)
                : body.slice(0, p) + ch + body.slice(p + 1);
        }
        const expected = oracle(body);
        if (expected === undefined) {
          expect(refuses(body)).toBe(true);
        } else {
          const got = split(body);
          expect(got.map((g) => ({ id: g.id, timestamp: g.timestamp }))).toEqual(expected);
          for (const g of got) JSON.parse(text(g));
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('property: arbitrary text is never half-accepted', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (body) => {
        const expected = oracle(body);
        if (expected === undefined) expect(refuses(body)).toBe(true);
        else expect(split(body).map((g) => g.id)).toEqual(expected.map((e) => e.id));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('PageEvents (columnar page)', () => {
  it(
    'property: spans of the element and of its id/timestamp tokens, escape bits, and index access agree with ' +
      'iteration',
    () => {
      fc.assert(
        fc.property(events, fc.nat(3), (evs, ws) => {
          const sep = ' \n\t'.slice(0, ws);
          const body = Buffer.from(`${sep}[${sep}${evs.map((e) => e.json).join(`${sep},${sep}`)}${sep}]${sep}`, 'utf8');
          const page = splitJsonArray(body);
          expect(page.length).toBe(evs.length);
          expect(page.body).toBe(body);
          const iterated = [...page];
          for (let i = 0; i < page.length; i++) {
            expect(body.toString('utf8', page.start[i], page.end[i])).toBe(evs[i]!.json);
            const idToken = body.toString('utf8', page.idStart[i], page.idEnd[i]);
            const tsToken = body.toString('utf8', page.tsStart[i], page.tsEnd[i]);
            expect(JSON.parse(idToken)).toBe(evs[i]!.id);
            expect(JSON.parse(tsToken)).toBe(page.timestamp(i));
            expect(page.idStart[i]).toBeGreaterThan(page.start[i]!);
            expect(page.tsEnd[i]).toBeLessThan(page.end[i]!);
            expect((page.escapes[i]! & ESCAPED_ID) !== 0).toBe(idToken.includes('\\'));
            expect((page.escapes[i]! & ESCAPED_TIMESTAMP) !== 0).toBe(tsToken.includes('\\'));
            expect(iterated[i]).toEqual({ id: page.id(i), timestamp: page.timestamp(i), raw: page.raw(i) });
            expect(page.id(i)).toBe(evs[i]!.id);
          }
        }),
        { numRuns: 300 },
      );
    },
  );

  it('takes the last of repeated keys, escaped keys too, and forgets an id overwritten by a non-string', () => {
    const page = splitJsonArray(
      Buffer.from('[{"id":"a","timestamp":"t\\u0031","id":"b\\n"},{"\\u0069d":"c","timestamp":"u","timestamp":"v"}]'),
    );
    expect([...page].map((e) => [e.id, e.timestamp])).toEqual([
      ['b\n', 't1'],
      ['c', 'v'],
    ]);
    expect(page.escapes[0]).toBe(ESCAPED_ID | ESCAPED_TIMESTAMP);
    expect(page.escapes[1]).toBe(0);
    expect(() => splitJsonArray(Buffer.from('[{"id":"a","timestamp":"t","id":null}]'))).toThrow(
      /element 0 of the answer has no string "id"/,
    );
    expect(() => splitJsonArray(Buffer.from('[{"id":"a\\"b","timestamp":"t","timestamp":{}}]'))).toThrow(
      /event a"b of the answer has no string "timestamp"/,
    );
  });

  it('holds a page in a few typed arrays whatever its size (grown past the first guess, sized exactly)', () => {
    const n = 5000;
    const event = (i: number): string =>
      `{"id":"${i.toString(16).padStart(24, '0')}","timestamp":"2026-01-01T00:00:00Z"}`;
    const body = Buffer.from(`[${Array.from({ length: n }, (_, i) => event(i)).join(',')}]`);
    const page = splitJsonArray(body);
    expect(page.length).toBe(n);
    for (const col of [page.start, page.end, page.idStart, page.idEnd, page.tsStart, page.tsEnd])
      expect(col.length).toBe(n);
    expect(page.escapes.length).toBe(n);
    expect(page.id(n - 1)).toBe((n - 1).toString(16).padStart(24, '0'));
    // The next page does not overwrite this one (the splitter reuses its scratch arrays).
    splitJsonArray(Buffer.from('[{"id":"x","timestamp":"y"}]'));
    expect(page.id(0)).toBe('0'.repeat(24));
  });

  it('pageEventsOf builds the same view from event objects (for fakes): ids, timestamps and raw bytes round-trip', () => {
    fc.assert(
      fc.property(events, (evs) => {
        const list = evs.map((e) => ({ id: e.id, timestamp: e.timestamp, raw: Buffer.from(e.json, 'utf8') }));
        const page = pageEventsOf(list);
        expect(page.length).toBe(list.length);
        expect([...page].map((e) => ({ id: e.id, timestamp: e.timestamp, raw: Buffer.from(e.raw) }))).toEqual(list);
        for (let i = 0; i < page.length; i++) expect(page.raw(i).buffer).toBe(page.body.buffer);
      }),
      { numRuns: 200 },
    );
  });
});
