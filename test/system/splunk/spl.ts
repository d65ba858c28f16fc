// A strict evaluator for the subset of Splunk's eval language the add-on's props.conf uses (EVAL- settings), and
// for the subset of the search language its event types and the CIM definitions' constraints use. Anything
// outside the subset is an error, not a guess: a typo, an unknown function, a wrong number of arguments or a
// multivalue where a single value is needed fails the test that evaluates it.
//
// eval subset (Splunk's semantics as its Search Reference states them):
//   literals   "string" (\" and \\ escapes), integers; 'field name' or bare_name (letters, digits, _) for a field
//   operators  X . Y (concatenation; null if either is null), X == Y, X = Y, X != Y (null if either is null),
//              NOT, AND, OR; precedence: . > comparisons > NOT > AND > OR
//   functions  coalesce(X,...) first non-null; if(C,X,Y); case(C1,X1,...) first true, else null; in(X,"a",...);
//              true(); null(); isnull(X); isnotnull(X); nullif(X,Y) null when X equals Y, else X; lower(X);
//              match(X,"regex"); spath(X,"path"); mvindex(MV,N); mvfind(MV,"regex")
// A null condition counts as false. A field with one value is a single value; two or more, a multivalue.
export type Value = null | boolean | number | string | readonly string[];
export type Fields = ReadonlyMap<string, string | readonly string[]>;

type Token = { k: 'str' | 'field' | 'name' | 'num' | 'op'; v: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && c === '"') {
          const n = src[i + 1];
          if (n !== '"' && n !== '\\') throw new Error(`eval: unsupported escape \\${n ?? ''} at ${i} in ${src}`);
          v += n;
          i += 2;
        } else v += src[i++];
      }
      if (i >= src.length) throw new Error(`eval: unterminated ${c} at ${at} in ${src}`);
      i++;
      out.push({ k: c === '"' ? 'str' : 'field', v, at });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      out.push({ k: 'op', v: two, at });
      i += 2;
      continue;
    }
    if ('(),.='.includes(c)) {
      out.push({ k: 'op', v: c === '=' ? '==' : c, at });
      i++;
      continue;
    }
    const num = /^\d+/.exec(src.slice(i));
    if (num) {
      out.push({ k: 'num', v: num[0], at });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ k: 'name', v: name[0], at });
      i += name[0].length;
      continue;
    }
    throw new Error(`eval: unexpected character ${JSON.stringify(c)} at ${i} in ${src}`);
  }
  return out;
}

export type Expr =
  | { t: 'lit'; v: string | number }
  | { t: 'field'; name: string }
  | { t: 'call'; fn: string; args: Expr[] }
  | { t: 'bin'; op: string; l: Expr; r: Expr }
  | { t: 'not'; e: Expr };

/** Functions of the subset and their argument counts [min, max]. */
const FUNCTIONS: Readonly<Record<string, readonly [number, number]>> = {
  coalesce: [1, 100],
  if: [3, 3],
  case: [2, 200],
  in: [2, 200],
  true: [0, 0],
  null: [0, 0],
  isnull: [1, 1],
  isnotnull: [1, 1],
  nullif: [2, 2],
  lower: [1, 1],
  match: [2, 2],
  spath: [2, 2],
  mvindex: [2, 2],
  mvfind: [2, 2],
};
const KEYWORDS = new Set(['AND', 'OR', 'NOT']);

export function parseEval(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const fail = (what: string): never => {
    const t = peek();
    throw new Error(`eval: ${what} at ${t ? t.at : 'end'} in ${src}`);
  };
  const eatOp = (v: string): boolean => (peek()?.k === 'op' && peek()!.v === v ? (p++, true) : false);
  const eatKw = (v: string): boolean => (peek()?.k === 'name' && peek()!.v === v ? (p++, true) : false);
  const or = (): Expr => {
    let l = and();
    while (eatKw('OR')) l = { t: 'bin', op: 'OR', l, r: and() };
    return l;
  };
  const and = (): Expr => {
    let l = not();
    while (eatKw('AND')) l = { t: 'bin', op: 'AND', l, r: not() };
    return l;
  };
  const not = (): Expr => (eatKw('NOT') ? { t: 'not', e: not() } : cmp());
  const cmp = (): Expr => {
    const l = concat();
    for (const op of ['==', '!=']) if (eatOp(op)) return { t: 'bin', op, l, r: concat() };
    return l;
  };
  const concat = (): Expr => {
    let l = primary();
    while (eatOp('.')) l = { t: 'bin', op: '.', l, r: primary() };
    return l;
  };
  const primary = (): Expr => {
    const t = peek();
    if (!t) return fail('an operand is missing');
    if (eatOp('(')) {
      const e = or();
      if (!eatOp(')')) fail('")" expected');
      return e;
    }
    p++;
    if (t.k === 'str') return { t: 'lit', v: t.v };
    if (t.k === 'num') return { t: 'lit', v: Number(t.v) };
    if (t.k === 'field') return { t: 'field', name: t.v };
    if (t.k === 'name' && !KEYWORDS.has(t.v)) {
      if (!eatOp('(')) return { t: 'field', name: t.v };
      const arity = FUNCTIONS[t.v];
      if (!arity)
        throw new Error(
          `eval: ${t.v}() is not in the supported subset (${Object.keys(FUNCTIONS).join(', ')}) in ${src}`,
        );
      const args: Expr[] = [];
      if (!eatOp(')')) {
        do args.push(or());
        while (eatOp(','));
        if (!eatOp(')')) fail(`")" expected after the arguments of ${t.v}`);
      }
      if (args.length < arity[0] || args.length > arity[1])
        throw new Error(`eval: ${t.v}() takes ${arity[0]}..${arity[1]} arguments, not ${args.length}, in ${src}`);
      if (t.v === 'case' && args.length % 2 !== 0)
        throw new Error(`eval: case() needs condition/value pairs in ${src}`);
      if ((t.v === 'match' || t.v === 'mvfind' || t.v === 'spath') && args[1]!.t !== 'lit')
        throw new Error(`eval: ${t.v}()'s second argument must be a string literal here, in ${src}`);
      return { t: 'call', fn: t.v, args };
    }
    return fail(`unexpected ${t.v}`);
  };
  const e = or();
  if (p !== toks.length) fail('unexpected text after the expression');
  return e;
}

/** The fields an expression reads. */
export function fieldsOf(e: Expr, out = new Set<string>()): Set<string> {
  if (e.t === 'field') out.add(e.name);
  else if (e.t === 'call') e.args.forEach((a) => fieldsOf(a, out));
  else if (e.t === 'bin') {
    fieldsOf(e.l, out);
    fieldsOf(e.r, out);
  } else if (e.t === 'not') fieldsOf(e.e, out);
  return out;
}

const single = (v: Value, what: string): string | null => {
  if (v === null) return null;
  if (Array.isArray(v))
    throw new Error(`eval: ${what} got a multivalue (${JSON.stringify(v)}); the subset needs a single value there`);
  if (typeof v === 'boolean') throw new Error(`eval: ${what} got a boolean`);
  return String(v);
};
const truth = (v: Value, what: string): boolean => {
  if (v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`eval: ${what} needs a condition, got ${JSON.stringify(v)}`);
  return v;
};
const values = (v: Value): string[] => (v === null ? [] : Array.isArray(v) ? [...v] : [String(v)]);
/** Splunk's regular expressions are PCRE; the subset's patterns must mean the same in JavaScript. */
export function regex(p: string): RegExp {
  if (/\(\?[^:]|\\[pPQEKGAzZ]|[*+?}]\+/.test(p))
    throw new Error(`eval: the pattern ${p} uses PCRE syntax outside the subset`);
  return new RegExp(p);
}

export function evaluate(e: Expr, fields: Fields): Value {
  switch (e.t) {
    case 'lit':
      return e.v;
    case 'field': {
      const v = fields.get(e.name);
      return v === undefined ? null : v;
    }
    case 'not':
      return !truth(evaluate(e.e, fields), 'NOT');
    case 'bin': {
      if (e.op === 'AND') return truth(evaluate(e.l, fields), 'AND') && truth(evaluate(e.r, fields), 'AND');
      if (e.op === 'OR') return truth(evaluate(e.l, fields), 'OR') || truth(evaluate(e.r, fields), 'OR');
      const l = single(evaluate(e.l, fields), e.op);
      const r = single(evaluate(e.r, fields), e.op);
      if (l === null || r === null) return null;
      if (e.op === '.') return l + r;
      return e.op === '==' ? l === r : l !== r;
    }
    case 'call':
      return call(e.fn, e.args, fields);
  }
}

function call(fn: string, args: readonly Expr[], fields: Fields): Value {
  const arg = (i: number): Value => evaluate(args[i]!, fields);
  switch (fn) {
    // Every argument is evaluated (as Splunk may), so that an argument outside the subset fails even when an
    // earlier one decides the result.
    case 'coalesce':
      return args.map((_, i) => arg(i)).find((v) => v !== null) ?? null;
    case 'if': {
      const [c, x, y] = [arg(0), arg(1), arg(2)];
      return truth(c, 'if') ? x : y;
    }
    case 'case': {
      const all = args.map((_, i) => arg(i));
      for (let i = 0; i < all.length; i += 2) if (truth(all[i]!, 'case')) return all[i + 1]!;
      return null;
    }
    case 'in': {
      const x = single(arg(0), 'in');
      return x !== null && args.slice(1).some((_, i) => single(arg(i + 1), 'in') === x);
    }
    case 'true':
      return true;
    case 'null':
      return null;
    case 'isnull':
      return arg(0) === null;
    case 'isnotnull':
      return arg(0) !== null;
    case 'nullif': {
      const [x, y] = [single(arg(0), 'nullif'), single(arg(1), 'nullif')];
      return x === y ? null : x;
    }
    case 'lower': {
      const x = single(arg(0), 'lower');
      return x === null ? null : x.toLowerCase();
    }
    case 'match': {
      const x = single(arg(0), 'match');
      return x === null ? null : regex(String(arg(1))).test(x);
    }
    case 'spath': {
      const x = single(arg(0), 'spath');
      return x === null ? null : spath(x, String(arg(1)));
    }
    case 'mvindex': {
      const list = values(arg(0));
      const n = arg(1);
      if (n === null) return null;
      if (typeof n !== 'number') throw new Error(`eval: mvindex() needs a number, got ${JSON.stringify(n)}`);
      return list.at(n) ?? null;
    }
    case 'mvfind': {
      const re = regex(String(arg(1)));
      const i = values(arg(0)).findIndex((x) => re.test(x));
      return i < 0 ? null : i;
    }
  }
  throw new Error(`eval: ${fn}() is not implemented`);
}

/** A JSON value as Splunk's spath and KV_MODE=json render a leaf: strings as they are, others as JSON text. */
function leaf(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * spath(X, path) on JSON text: `a.b` walks objects, `a{}` every element of an array. One value: a single value;
 * several: a multivalue; none (or X not JSON): null. A JSON null reads as the text null, as KV_MODE=json does.
 */
export function spath(text: string, path: string): Value {
  if (!/^[A-Za-z_@][\w@-]*(\{\})?(\.[A-Za-z_@][\w@-]*(\{\})?)*$/.test(path))
    throw new Error(`spath: path ${path} is outside the subset`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  let cur: unknown[] = [doc];
  for (const seg of path.split('.')) {
    const arr = seg.endsWith('{}');
    const key = arr ? seg.slice(0, -2) : seg;
    const next: unknown[] = [];
    for (const c of cur) {
      if (c === null || typeof c !== 'object' || Array.isArray(c) || !(key in c)) continue;
      const v = (c as Record<string, unknown>)[key];
      if (arr) {
        if (Array.isArray(v)) next.push(...v);
      } else next.push(v);
    }
    cur = next;
  }
  const out = cur.map(leaf);
  return out.length === 0 ? null : out.length === 1 ? out[0]! : out;
}

// --- search subset: event types' `search` and the CIM definitions' constraints ----------------------------------
// field=value terms (value quoted or bare, * as a wildcard, matched case-insensitively as Splunk's search does,
// a multivalue field matching when any value does), NOT, OR, AND and implicit AND, parentheses. As in Splunk's
// search language, OR binds tighter than AND.
export type Search =
  { t: 'term'; field: string; value: string } | { t: 'and' | 'or'; items: Search[] } | { t: 'not'; e: Search };

export function parseSearch(src: string): Search {
  const toks = src.match(/\(|\)|[^\s()=]+="(?:[^"\\]|\\.)*"|[^\s()]+/g) ?? [];
  let p = 0;
  const andExpr = (): Search => {
    const items: Search[] = [];
    while (p < toks.length && toks[p] !== ')') {
      if (toks[p] === 'AND') {
        p++;
        continue;
      }
      items.push(orExpr());
    }
    if (items.length === 0) throw new Error(`search: empty expression in ${src}`);
    return items.length === 1 ? items[0]! : { t: 'and', items };
  };
  const orExpr = (): Search => {
    const items = [notExpr()];
    while (toks[p] === 'OR') {
      p++;
      items.push(notExpr());
    }
    return items.length === 1 ? items[0]! : { t: 'or', items };
  };
  const notExpr = (): Search => (toks[p] === 'NOT' ? (p++, { t: 'not', e: notExpr() }) : atom());
  const atom = (): Search => {
    const tok = toks[p++];
    if (tok === '(') {
      const e = andExpr();
      if (toks[p++] !== ')') throw new Error(`search: ")" expected in ${src}`);
      return e;
    }
    const m = tok === undefined ? null : /^([A-Za-z_][\w.{}]*)=(?:"((?:[^"\\]|\\.)*)"|([^\s"()]+))$/.exec(tok);
    if (!m) throw new Error(`search: ${tok ?? 'end'} is not a field=value term of the subset, in ${src}`);
    return { t: 'term', field: m[1]!, value: (m[2] ?? m[3]!).replace(/\\(.)/g, '$1') };
  };
  const e = andExpr();
  if (p !== toks.length) throw new Error(`search: unexpected ${toks[p]} in ${src}`);
  return e;
}

const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );

export function matches(s: Search, fields: Fields): boolean {
  switch (s.t) {
    case 'term': {
      const re = glob(s.value);
      return values(fields.get(s.field) ?? null).some((v) => re.test(v));
    }
    case 'and':
      return s.items.every((x) => matches(x, fields));
    case 'or':
      return s.items.some((x) => matches(x, fields));
    case 'not':
      return !matches(s.e, fields);
  }
}
