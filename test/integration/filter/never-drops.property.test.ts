// Never drops: whatever the record, the filter returns a JSON object that keeps every original top-level
// field, and marks what it cannot map with event.kind "pipeline_error" and an error.message. Where the input
// is a DI event, the output must equal the independent reference mapping (test/unit/filter/reference.ts).
// More than 100,000 generated and mutated records per run.
import { describe, it, expect, beforeAll, beforeEach } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { FilterHost } from '../../../input/wasm/filter-host.js';
import { expected, locate } from '../../unit/filter/reference.js';

type Obj = Record<string, unknown>;
const dir = new URL('../../../fixtures/samples/', import.meta.url);
const seeds: Obj[] = readdirSync(dir)
  .filter((f) => f.endsWith('.input.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Obj);

let host: FilterHost;
beforeAll(() => {
  host = new FilterHost();
});

const lenient = new TextDecoder('utf-8');
const enc = new TextEncoder();
const PROFILES = ['jumpcloud_ecs', 'jumpcloud_elastic'] as const;

/** Fluent Bit's default `json.escape_unicode on`: non-ASCII as \uXXXX. */
const escapeUnicode = (s: string): string =>
  s.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

function isError(out: Obj): boolean {
  const ev = out.event as Obj | null | undefined;
  return (
    out['event.kind'] === 'pipeline_error' || (ev !== null && typeof ev === 'object' && ev.kind === 'pipeline_error')
  );
}
function errorMessage(out: Obj): unknown {
  const err = out.error as Obj | null | undefined;
  return out['error.message'] ?? (err !== null && typeof err === 'object' ? err.message : undefined);
}

/**
 * Deep equality of two JSON values without recursion: a carried field may be nested 10,000 levels, deeper
 * than a recursive comparison (vitest's toStrictEqual, node's isDeepStrictEqual) can go on the JS stack.
 */
function sameJson(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (
      x === null ||
      y === null ||
      typeof x !== 'object' ||
      typeof y !== 'object' ||
      Array.isArray(x) !== Array.isArray(y)
    )
      return false;
    const kx = Object.keys(x as Obj),
      ky = Object.keys(y as Obj);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.prototype.hasOwnProperty.call(y, k)) return false;
      stack.push([(x as Obj)[k], (y as Obj)[k]]);
    }
  }
  return true;
}

// Records checked by the running case (each in every profile); reset before each case, so that each one proves
// its own count whatever ran before it.
let checked = 0;
beforeEach(() => {
  checked = 0;
});
const RUNS = { diEvents: 60_000, random: 20_000, truncated: 15_000, invalidUtf8: 8_000, big: 20, deep: 20 } as const;
function expectChecked(records: number): void {
  expect(checked / PROFILES.length).toBe(records);
}

/** The invariants every output must hold; `differential`: also equal the reference where it maps. */
function check(bytes: Uint8Array, opts: { differential: boolean; mustFail?: boolean }): void {
  for (const fn of PROFILES) {
    const outBytes = host.callBytes(fn, bytes); // a trap throws here
    const out = JSON.parse(lenient.decode(outBytes)) as unknown;
    expect(out !== null && typeof out === 'object' && !Array.isArray(out)).toBe(true);
    const o = out as Obj;
    let input: unknown;
    try {
      input = JSON.parse(lenient.decode(bytes));
    } catch {
      input = undefined;
    }
    const inputObj = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Obj) : undefined;
    if (!inputObj) {
      // Not a JSON object: kept whole in event.original, marked as an error.
      expect(isError(o)).toBe(true);
      expect(typeof errorMessage(o)).toBe('string');
      expect((o.event as Obj).original).toBe(lenient.decode(bytes));
      checked++;
      continue;
    }
    const text = lenient.decode(bytes);
    const found = locate(inputObj as Parameters<typeof locate>[0], text);
    if (isError(o)) {
      expect(errorMessage(o)).toMatch(/\S/);
      for (const [k, v] of Object.entries(inputObj)) {
        if (!sameJson(o[k], v)) expect(o[k], `field ${k} unchanged`).toStrictEqual(v);
      }
      if (!opts.mustFail) expect(found, 'a DI event was not mapped: ' + String(errorMessage(o))).toBeUndefined();
    } else {
      expect(opts.mustFail ?? false).toBe(false);
      expect(found).toBeDefined();
      if (found!.form === 1) {
        for (const [k, v] of Object.entries(inputObj))
          if (k !== 'message' && isDeepStrictEqual(o[k], v) === false) {
            // Only a mapped field may take a carried field's place.
            expect(expected(fn === 'jumpcloud_ecs' ? 'ecs' : 'elastic', text)![k]).toBeDefined();
          }
      }
      if (opts.differential) {
        const want = expected(fn === 'jumpcloud_ecs' ? 'ecs' : 'elastic', text);
        if (!isDeepStrictEqual(o, want)) expect(o).toStrictEqual(want);
      }
    }
    checked++;
  }
}

// ---- generators ------------------------------------------------------------------------------------

const weirdString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '',
    '\ud800',
    'a\udfffb',
    '\ud83d',
    'é',
    '"quoted"',
    'back\\slash',
    'line\nbreak',
    '\u0000',
    '\u2028',
    '{"a":1}',
    'ACTIVATED',
    'Ünïcödé',
  ),
);
const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.constantFrom('1.2.3', '01.2.3.4', '::1', 'fe80::1%eth0', '256.1.1.1', 'not-an-ip', ''),
);
const timestamp = fc.oneof(
  fc
    .tuple(
      fc.date({ min: new Date('0001-01-02T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 0, max: 999999999 }),
      fc.constantFrom('Z', '+00:00', '+05:30', '-08:00', '-23:59', 'z'),
    )
    .map(
      ([d, n, frac, off]) =>
        d.toISOString().slice(0, 19) + (n ? '.' + String(frac).padStart(9, '0').slice(0, n) : '') + off,
    ),
  fc.constantFrom(
    '2023-06-15T14:21:10.34334445Z',
    '2023-02-29T00:00:00Z',
    '2024-02-29T23:59:59.999999999+14:00',
    '2023-06-15 14:21:10Z',
    '2023-06-15T24:00:00Z',
    '1686838601',
    '',
  ),
  fc.string({ maxLength: 25 }),
);
const scalar = fc.oneof(
  weirdString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const change = fc.record(
  {
    field: fc.oneof(
      fc.constantFrom(
        'activated',
        'password_date',
        'state',
        'suspended',
        'enable_user_portal_multifactor',
        'mfa.exclusion',
        'mfa.exclusionUntil',
        'totp_enabled',
        'company',
        'emails',
      ),
      weirdString,
      fc.integer(),
    ),
    from: fc.oneof(scalar, anyJson),
    to: fc.oneof(scalar, anyJson),
  },
  { requiredKeys: [] },
);
const knownField = fc.constantFrom(
  'id',
  'timestamp',
  'event_type',
  'service',
  'client_ip',
  'success',
  'sso_token_success',
  'error_message',
  'username',
  'initiated_by',
  'resource',
  'useragent',
  'user_agent',
  'geoip',
  'system',
  'application',
  'changes',
  'association',
  'process_name',
  'src_ip',
  'message',
  'auth_context',
  'organization',
  'mfa',
  'provider',
  '@version',
);
// Types of the categorization table (every row kind: patterns, alerts, a type that says its outcome), a type it
// does not declare, one that differs from a declared one by its last byte or by one in the middle, and none.
const eventType = fc.oneof(
  fc.constantFrom(
    'sso_auth',
    'admin_login_attempt',
    'login_attempt',
    'ldap_bind',
    'user_login_attempt',
    'user_update',
    'user_unlocked',
    'radius_auth_attempt',
    'user_password_reset_request',
    'genai_prompt',
    '',
  ),
  fc.constantFrom(
    'user_create',
    'group_delete',
    'system_update',
    'command_run',
    'alert_created',
    'risk_event_created',
    'scheduled_report_run_failed',
    'scheduled_report_run_success',
    'syncro_company_mapping_update',
    'passwordmanager_user_re-enable',
    'os_major_rollback',
    'ca_created',
    'sso_autH',
    'user_creatf',
    'passwordvault_sharedfolder_website_removE',
    'group_dElete',
    'radius_auth',
  ),
);
const resource = fc.record(
  {
    type: fc.oneof(
      fc.constantFrom('user', 'systemuser', 'admin', 'user_group', 'system_group', 'system', 'policy', 'User', ''),
      weirdString,
    ),
    id: weirdString,
    username: weirdString,
    email: weirdString,
    name: weirdString,
    hostname: weirdString,
    displayName: weirdString,
  },
  { requiredKeys: [] },
);

/** A seed event mutated: fields deleted, retyped, added; nested values replaced. */
const diEvent = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    deletes: fc.array(knownField, { maxLength: 4 }),
    retypes: fc.array(fc.tuple(knownField, fc.oneof(scalar, anyJson)), { maxLength: 3 }),
    sets: fc.record(
      {
        timestamp: fc.option(timestamp),
        client_ip: fc.option(ip),
        src_ip: fc.option(ip),
        event_type: fc.option(eventType),
        changes: fc.option(fc.array(change, { maxLength: 5 })),
        username: fc.option(weirdString),
        initiated_by: fc.option(
          fc.record({ id: weirdString, username: weirdString, email: weirdString }, { requiredKeys: [] }),
        ),
        resource: fc.option(resource),
        system: fc.option(
          fc.record({ id: weirdString, hostname: weirdString, displayName: weirdString }, { requiredKeys: [] }),
        ),
        auth_context: fc.option(
          fc.record({ jumpcloud_protect_device: fc.record({ ip, os: weirdString }, { requiredKeys: [] }) }),
        ),
        message: fc.option(weirdString),
        sso_token_success: fc.option(fc.oneof(fc.boolean(), scalar)),
        success: fc.option(fc.oneof(fc.boolean(), scalar)),
      },
      { requiredKeys: [] },
    ),
    extra: fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      anyJson,
      { maxKeys: 3 },
    ),
  })
  .map(({ seed, deletes, retypes, sets, extra }) => {
    const ev: Obj = structuredClone(seeds[seed]!);
    for (const [k, v] of Object.entries(sets)) if (v !== null) ev[k] = v;
    for (const k of deletes) delete ev[k];
    for (const [k, v] of retypes) ev[k] = v;
    return { ...extra, ...ev };
  });

const upstream = fc.dictionary(
  fc.constantFrom('hostname', 'env', 'event', 'error', 'tags', 'user', 'observer', 'x'),
  anyJson,
  { maxKeys: 3 },
);

describe('the filter never drops a record', () => {
  it('DI events, mutated, in both input forms, with and without escaped non-ASCII (60,000)', () => {
    fc.assert(
      fc.property(diEvent, upstream, fc.boolean(), fc.boolean(), (ev, up, form1, esc) => {
        const record = form1 ? { ...up, message: JSON.stringify(ev) } : ev;
        let text = JSON.stringify(record);
        if (esc) text = escapeUnicode(text);
        check(enc.encode(text), { differential: true });
      }),
      { numRuns: RUNS.diEvents },
    );
    expectChecked(RUNS.diEvents);
  });

  it('both profiles map a compact event (their fast path) exactly as the same event with whitespace (the general walker) (5,000)', () => {
    // The texts differ only in `message` (jumpcloud_ecs) and `event.original` (jumpcloud_elastic).
    const withoutText = (text: string): Obj => {
      const o = JSON.parse(text) as Obj;
      delete o.message;
      if (o.event && typeof o.event === 'object') delete (o.event as Obj).original;
      return o;
    };
    fc.assert(
      fc.property(diEvent, fc.constantFrom('jumpcloud_ecs', 'jumpcloud_elastic'), (ev, fn) => {
        const compact = host.call(fn, JSON.stringify({ message: JSON.stringify(ev) }));
        const spaced = host.call(fn, JSON.stringify({ message: JSON.stringify(ev, null, 1) }));
        expect(withoutText(compact)).toStrictEqual(withoutText(spaced));
      }),
      { numRuns: 5_000 },
    );
  });

  it('random JSON records and values (20,000)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyJson,
          fc.dictionary(
            fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'),
            anyJson,
          ),
        ),
        (v) => {
          check(enc.encode(JSON.stringify(v)), { differential: true });
        },
      ),
      { numRuns: RUNS.random },
    );
    expectChecked(RUNS.random);
  });

  it('truncated text: of the embedded event and of the record (15,000)', () => {
    // `after`: a field after `message` whose text starts with a quote and closers, so that a reader which
    // missed where `message` ends could take the two for one complete event.
    const after = fc.option(fc.constantFrom('"}', '"}}', '"}]}', '"},"x":1}', '"]}}'), { nil: undefined });
    fc.assert(
      fc.property(
        diEvent,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        after,
        (ev, cut, inMessage, tail) => {
          const raw = JSON.stringify(ev);
          if (inMessage) {
            const k = Math.floor(cut * (raw.length - 1));
            const msg = raw.slice(0, k);
            let isObj = false;
            try {
              const p = JSON.parse(msg);
              isObj = p !== null && typeof p === 'object' && !Array.isArray(p);
            } catch {
              /* truncated */
            }
            const record = tail === undefined ? { host: 'h', message: msg } : { message: msg, host: tail };
            check(enc.encode(JSON.stringify(record)), { differential: true, mustFail: !isObj });
          } else {
            const text = JSON.stringify({ message: raw });
            check(enc.encode(text.slice(0, Math.floor(cut * (text.length - 1)))), { differential: false });
          }
        },
      ),
      { numRuns: RUNS.truncated },
    );
    expectChecked(RUNS.truncated);
  });

  it('invalid UTF-8 inside the embedded event and in carried fields (8,000)', () => {
    const bad = fc.constantFrom(
      [0xff],
      [0xc3],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf4, 0x90, 0x80, 0x80],
      [0x80],
    );
    fc.assert(
      fc.property(diEvent, bad, fc.boolean(), (ev, badBytes, inMessage) => {
        const marker = 'QQMARKQQ';
        const record = inMessage
          ? { message: JSON.stringify({ ...ev, note: marker }) }
          : { tag: marker, message: JSON.stringify(ev) };
        const text = enc.encode(JSON.stringify(record));
        const at = Buffer.from(text).indexOf(marker);
        const bytes = new Uint8Array([...text.subarray(0, at), ...badBytes, ...text.subarray(at + marker.length)]);
        check(bytes, { differential: !inMessage, mustFail: inMessage });
      }),
      { numRuns: RUNS.invalidUtf8 },
    );
    expectChecked(RUNS.invalidUtf8);
  });

  it('1 MB strings (20) and 10,000-deep nesting (20)', () => {
    fc.assert(
      fc.property(diEvent, fc.boolean(), (ev, form1) => {
        const big = { ...ev, blob: 'x'.repeat(1 << 20), note: 'é'.repeat(1000) };
        check(enc.encode(form1 ? JSON.stringify({ message: JSON.stringify(big) }) : JSON.stringify(big)), {
          differential: true,
        });
      }),
      { numRuns: RUNS.big },
    );
    fc.assert(
      fc.property(diEvent, fc.boolean(), fc.boolean(), (ev, form1, arrays) => {
        const depth = 10_000;
        const deep = arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
        // Keep the form as chosen: a `message` holding a JSON object would make the record form 1 and carry the
        // deep field through, which the filter does, but this test's JavaScript side cannot compare 10,000 levels.
        delete ev.message;
        const evText = JSON.stringify(ev).replace(/^\{/, `{"deep":${deep},`);
        check(enc.encode(form1 ? JSON.stringify({ message: evText }) : evText), { differential: false });
      }),
      { numRuns: RUNS.deep },
    );
    // Always, not only when the generator happens to delete event_type and service: unmappable and deep, so
    // every field (10,000 levels) must come back unchanged.
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    check(enc.encode(`{"deep":${deep},"id":"x"}`), { differential: false, mustFail: true });
    expectChecked(RUNS.big + RUNS.deep + 1);
  });

  it('empty object, non-object JSON, empty and odd text', () => {
    const odd = [
      '{}',
      '[]',
      'null',
      '42',
      '"str"',
      'true',
      '',
      ' ',
      '{',
      '}',
      '{"message":""}',
      '{"message":"{}"}',
      '{"message":null}',
      '{"message":{"event_type":"x"}}',
      '{"event_type":null}',
      '{"service":"sso"}',
      '{"message":"[1]","event":1,"error":2}',
    ];
    for (const t of odd) check(enc.encode(t), { differential: true });
    expectChecked(odd.length);
  });

  it('checks more than 100,000 records (each case above proves its own count)', () => {
    expect(Object.values(RUNS).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100_000);
  });
});
