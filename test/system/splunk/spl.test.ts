// The evaluator the CIM test relies on: Splunk's documented semantics for the subset the add-on uses, and errors
// (not guesses) for anything else: so a typo or an unsupported function in props.conf fails the CIM test.
import { describe, expect, it } from 'vitest';
import { parseConf } from './conf.js';
import { evaluate, matches, parseEval, parseSearch, spath, type Fields } from './spl.js';
import { buildAddOn, kvJson, searchTime } from './searchtime.js';

const ev = (src: string, fields: Record<string, string | string[]> = {}): unknown =>
  evaluate(parseEval(src), new Map(Object.entries(fields)) as Fields);

describe('eval subset', () => {
  it('reads fields quoted or bare, and a bare dotted name as a concatenation, as Splunk does', () => {
    const f = { 'event.action': 'user_update', event: 'e', action: 'a' };
    expect(ev("'event.action'", f)).toBe('user_update');
    expect(ev('event.action', f)).toBe('ea'); // the classic mistake: two fields joined
    expect(ev('"jumpcloud:" . \'event.action\'', f)).toBe('jumpcloud:user_update');
    expect(ev('"x" . missing', f)).toBeNull();
  });

  it('coalesce, nullif, if, case, in, match, lower, isnull, isnotnull', () => {
    expect(ev('coalesce(a, b, "z")', { b: 'B' })).toBe('B');
    expect(ev('coalesce(a, "")', {})).toBe(''); // an empty string is a value
    expect(ev('coalesce(nullif(a, ""), "z")', { a: '' })).toBe('z');
    expect(ev('if(a == "1", "one", "other")', {})).toBe('other'); // null condition: false
    expect(ev('case(a == "1", "one", a == "2", "two")', { a: '2' })).toBe('two');
    expect(ev('case(a == "1", "one")', { a: '3' })).toBeNull();
    expect(ev('if(in(a, "x", "y"), "yes", "no")', { a: 'y' })).toBe('yes');
    expect(ev('if(match(a, "^user_"), 1, 0)', { a: 'user_update' })).toBe(1);
    expect(ev('lower(a)', { a: 'High' })).toBe('high');
    expect(ev('if(isnull(a) AND isnotnull(b), "t", "f")', { b: 'x' })).toBe('t');
    expect(ev('if(NOT a != "x" OR b == "y", "t", "f")', { a: 'x' })).toBe('t');
  });

  it('multivalues: passed through coalesce, indexed by mvindex / mvfind, refused where one value is needed', () => {
    const f = { f: ['risk_level', 'reason'], t: ['medium', 'impossible_travel'] };
    expect(ev('coalesce(f, "x")', f)).toEqual(['risk_level', 'reason']);
    expect(ev('mvindex(t, mvfind(f, "^reason$"))', f)).toBe('impossible_travel');
    expect(ev('mvindex(t, mvfind(f, "^nothing$"))', f)).toBeNull();
    expect(() => ev('lower(f)', f)).toThrow(/multivalue/);
    expect(() => ev('f == "x"', f)).toThrow(/multivalue/);
  });

  it('refuses what is outside the subset', () => {
    expect(() => parseEval('lowr(a)')).toThrow(/not in the supported subset/);
    expect(() => parseEval('substr(a, 1, 2)')).toThrow(/not in the supported subset/);
    expect(() => parseEval('if(a, b)')).toThrow(/takes 3..3 arguments/);
    expect(() => parseEval('case(a, b, c)')).toThrow(/pairs/);
    expect(() => parseEval('coalesce(a, "b"')).toThrow(/"\)" expected/);
    expect(() => parseEval('"open')).toThrow(/unterminated/);
    expect(() => parseEval('a + b')).toThrow(/unexpected character/);
    expect(() => parseEval('a b')).toThrow(/unexpected text/);
    expect(() => parseEval('match(a, b)')).toThrow(/string literal/);
    expect(() => ev('if(match(a, "(?i)x"), 1, 0)', { a: 'x' })).toThrow(/PCRE/);
    expect(() => ev('if(a, 1, 0)', { a: 'x' })).toThrow(/needs a condition/);
  });

  it('spath on JSON text: paths, arrays, nulls, objects, text that is not JSON', () => {
    const raw = JSON.stringify({
      a: { b: 'x', n: 3, t: true, z: null, o: { k: 1 } },
      c: [
        { f: 'p', v: '1' },
        { f: 'q', v: '2' },
      ],
      e: '',
    });
    expect(spath(raw, 'a.b')).toBe('x');
    expect(spath(raw, 'a.n')).toBe('3');
    expect(spath(raw, 'a.t')).toBe('true');
    expect(spath(raw, 'a.z')).toBe('null');
    expect(spath(raw, 'a.o')).toBe('{"k":1}');
    expect(spath(raw, 'c{}.f')).toEqual(['p', 'q']);
    expect(spath(raw, 'e')).toBe('');
    expect(spath(raw, 'a.missing')).toBeNull();
    expect(spath('not json', 'a')).toBeNull();
    expect(() => spath(raw, 'a[0]')).toThrow(/outside the subset/);
  });
});

describe('search subset (event types, CIM constraints)', () => {
  const f = new Map(
    Object.entries({
      tag: ['change', 'account'],
      action: 'modified',
      user: 'host$',
      sourcetype: 'jumpcloud:directory_insights',
    }),
  ) as Fields;
  it('terms, quotes, wildcards, case-insensitive values, NOT, and OR binding tighter than AND', () => {
    expect(matches(parseSearch('sourcetype="jumpcloud:directory_insights" tag=account'), f)).toBe(true);
    expect(matches(parseSearch('tag=ACCOUNT action="Modified"'), f)).toBe(true);
    expect(matches(parseSearch('tag=authentication NOT (action=success user=*$)'), f)).toBe(false);
    expect(matches(parseSearch('tag=change NOT (action=success user=*$)'), f)).toBe(true);
    expect(matches(parseSearch('action="updated" OR action="modified"'), f)).toBe(true);
    // a=x b=y OR c=z is a=x AND (b=y OR c=z) in Splunk's search language
    expect(matches(parseSearch('tag=nope action=modified OR tag=change'), f)).toBe(false);
    expect(matches(parseSearch('tag=change action=nope OR tag=account'), f)).toBe(true);
  });
  it('refuses what is outside the subset', () => {
    expect(() => parseSearch('action!=x')).toThrow(/not a field=value term/);
    expect(() => parseSearch('justaword')).toThrow(/not a field=value term/);
    expect(() => parseSearch('(a=b')).toThrow(/"\)" expected/);
  });
});

describe('search-time order and settings', () => {
  const props = parseConf(
    [
      '[st]',
      'KV_MODE = json',
      'FIELDALIAS-a = x.y AS alias_as x.gone AS kept_as x.y ASNEW kept_asnew x.gone ASNEW kept_asnew2',
      'EVAL-first = "one"',
      'EVAL-from_alias = alias_as . "!"',
      'EVAL-out = coalesce(\'x.y\', "none")',
      'LOOKUP-l = t key AS x.k OUTPUTNEW out AS out fill',
    ].join('\n'),
    'props.conf',
  ).st!;
  const transforms = parseConf('[t]\nfilename = t.csv\nmax_matches = 1\n', 'transforms.conf');
  const rows = [
    { key: 'k1', out: 'from lookup', fill: 'filled' },
    { key: 'k2', out: '', fill: '' },
  ];
  const addon = buildAddOn(
    props,
    transforms,
    parseConf('[et]\nsearch = fill=filled\n', 'e'),
    parseConf('[eventtype=et]\nmine = enabled\n', 't'),
    () => rows,
  );

  it('FIELDALIAS AS replaces or removes, ASNEW keeps; EVAL sees aliases; LOOKUP OUTPUTNEW keeps what EVAL set', () => {
    const st = searchTime(addon, { x: { y: 'Y', k: 'k1' }, kept_as: 'old', kept_asnew: 'old', kept_asnew2: 'old2' });
    const f = Object.fromEntries(st.fields);
    expect(f.alias_as).toBe('Y');
    expect(f.kept_as).toBeUndefined(); // AS from a missing field removes the alias
    expect(f.kept_asnew).toBe('old');
    expect(f.kept_asnew2).toBe('old2');
    expect(f.from_alias).toBe('Y!');
    expect(f.out).toBe('Y'); // the EVAL's, not the lookup's
    expect(f.fill).toBe('filled');
    expect(st.eventtypes).toEqual(['et']);
    expect(st.tags).toEqual(['mine']);
  });

  it('a lookup with no matching row clears its output fields; an empty cell writes nothing', () => {
    const none = Object.fromEntries(searchTime(addon, { x: { k: 'unknown' } }).fields);
    expect(none.out).toBeUndefined();
    const empty = Object.fromEntries(searchTime(addon, { x: { k: 'k2' } }).fields);
    expect(empty.fill).toBeUndefined();
  });

  it('refuses configurations whose meaning would depend on an order Splunk does not promise', () => {
    const build = (lines: string[]): unknown =>
      buildAddOn(parseConf(['[st]', 'KV_MODE = json', ...lines].join('\n'), 'p').st!, transforms, {}, {}, () => rows);
    expect(() => build(['EVAL-a = "1"', 'EVAL-b = a'])).toThrow(/EVALs run at once/);
    expect(() => build(['FIELDALIAS-a = p AS q r AS q'])).toThrow(/two FIELDALIAS/);
    expect(() => build(['FIELDALIAS-a = p AS q q AS r'])).toThrow(/not chained/);
    expect(() => build(['LOOKUP-l = t key OUTPUT out'])).toThrow(/OUTPUTNEW/);
    expect(() => build(['LOOKUP-l = t key OUTPUTNEW out', 'EVAL-z = out'])).toThrow(/lookup writes after/);
    expect(() => build(['REPORT-x = y'])).toThrow(/outside what the evaluator covers/);
  });
});

describe('KV_MODE=json and the .conf reader', () => {
  it('flattens objects with dots and arrays with {}', () => {
    const f = Object.fromEntries(kvJson({ a: { b: 1, c: [true, 'x'] }, d: [{ e: 'p' }, { e: 'q' }], one: ['only'] }));
    expect(f).toEqual({ 'a.b': '1', 'a.c{}': ['true', 'x'], 'd{}.e': ['p', 'q'], 'one{}': 'only' });
  });
  it('joins continued lines and refuses what two readers could read differently', () => {
    expect(parseConf('[s]\nA = one \\\n  two \\\n  three\n', 'x').s).toEqual({ A: 'one\ntwo\nthree' });
    expect(() => parseConf('[s]\nA = 1\nA = 2\n', 'x')).toThrow(/set twice/);
    expect(() => parseConf('A = 1\n', 'x')).toThrow(/outside any/);
    expect(() => parseConf('[s]\nA = 1\n  B = 2\n', 'x')).toThrow(/indented/);
    expect(() => parseConf('[s]\nA = x ; y\n', 'x')).toThrow(/";"/);
  });
});
