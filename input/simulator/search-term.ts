// `search_term`, the API's filter (di-openapi.yaml, "Search" and "Operator-based search terms"), compiled to a
// predicate over the store's events. A term holds conjunctions (other keys are ignored): `and` (all criteria), `or`
// (any), `not` (none), all of them applying when several are given, each a list of criteria (or, as the schema's
// TermConjunction object, a map of field → value). A criterion is a nested term, the operator form `{field, operator,
// value}`, or the original form `{field: value | [values]}` (a list means `in`). Strings compare lower-cased: the API
// lower-cases field values on insert.
import { parseRfc3339, type Instant } from '../di/rfc3339.js';
import type { Skeleton } from './events.js';

export class SearchTermError extends Error {}

/** The event's JSON, parsed only when a criterion names a field the skeleton does not hold. */
export interface TermSubject {
  readonly s: Skeleton;
  event(): Record<string, unknown>;
}

type Predicate = (x: TermSubject) => boolean;
interface Size {
  n: number;
  depth: number;
}

const CONJUNCTIONS = ['and', 'or', 'not'] as const;
const NOT_SEARCHABLE = new Set(['changes', 'useragent', 'system_timestamp']);
const OPERATORS = new Set([
  'eq',
  'ne',
  'contains',
  'startsWith',
  'endsWith',
  'in',
  'not_in',
  'lt',
  'gt',
  'lte',
  'gte',
  'before',
  'after',
]);
/** Criteria and listed values in one term at most: the API answers "extremely complex searches" with a 500. */
export const MAX_TERM_SIZE = 10_000;
/** Nesting of conjunctions at most. */
export const MAX_TERM_DEPTH = 16;

/** Compiles `search_term` (undefined when absent); throws SearchTermError for a malformed one (a 400). */
export function compileSearchTerm(term: unknown): Predicate | undefined {
  if (term === undefined || term === null) return undefined;
  const size = { n: 0, depth: 0 };
  return conjunction(term, size, 'search_term');
}

function conjunction(term: unknown, size: Size, where: string): Predicate {
  if (typeof term !== 'object' || term === null || Array.isArray(term))
    throw new SearchTermError(`${where} must be an object holding and, or, not`);
  // Other keys are ignored, as the API's own decoding of its SearchTerm type does; several conjunctions all apply, as
  // in Elasticsearch's bool query (the published example sends all three, empty).
  const keys = Object.keys(term).filter(isConjunction);
  const all = keys.map((op) => {
    const raw = (term as Record<string, unknown>)[op];
    const list = Array.isArray(raw)
      ? raw
      : typeof raw === 'object' && raw !== null
        ? Object.entries(raw).map(([k, v]) => ({ [k]: v }))
        : undefined;
    if (!list) throw new SearchTermError(`${where}.${op} must be a list of criteria`);
    const parts = list.map((c, i) => criterion(c, size, `${where}.${op}[${i}]`));
    // An empty list constrains nothing.
    if (parts.length === 0) return () => true;
    if (op === 'and') return (x: TermSubject) => parts.every((p) => p(x));
    if (op === 'or') return (x: TermSubject) => parts.some((p) => p(x));
    return (x: TermSubject) => !parts.some((p) => p(x));
  });
  return all.length === 1 ? all[0]! : (x) => all.every((p) => p(x)); // none: constrains nothing
}

function isConjunction(k: string): boolean {
  return (CONJUNCTIONS as readonly string[]).includes(k);
}

function criterion(c: unknown, size: Size, where: string): Predicate {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new SearchTermError(`${where} must be an object`);
  if (++size.n > MAX_TERM_SIZE)
    throw new SearchTermError(`search_term too complex: more than ${MAX_TERM_SIZE} criteria and values`);
  const keys = Object.keys(c);
  if (keys.length > 0 && keys.every(isConjunction)) {
    if (++size.depth > MAX_TERM_DEPTH) throw new SearchTermError(`search_term nested more than ${MAX_TERM_DEPTH} deep`);
    const p = conjunction(c, size, where);
    size.depth--;
    return p;
  }
  const o = c as Record<string, unknown>;
  if ('operator' in o || ('field' in o && 'value' in o)) {
    if (typeof o.field !== 'string' || o.field === '')
      throw new SearchTermError(`${where}.field must name an event field`);
    if (typeof o.operator !== 'string' || !OPERATORS.has(o.operator)) {
      throw new SearchTermError(
        `${where}.operator "${String(o.operator)}" is not supported; use one of ${[...OPERATORS].join(', ')}`,
      );
    }
    return compare(o.field, o.operator, o.value, size, where);
  }
  if (keys.length === 0) throw new SearchTermError(`${where} names no field`);
  // The original form: every field of the object must match. A value that is an object equals no field's value
  // (the schema's TermConjunction allows any value; events hold scalars where they are searched).
  const parts = keys.map((k): Predicate => {
    const v = o[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return () => false;
    return compare(
      k,
      Array.isArray(v) ? 'in' : 'eq',
      Array.isArray(v) ? v.filter((x) => typeof x !== 'object' || x === null) : v,
      size,
      `${where}.${k}`,
    );
  });
  return (x) => parts.every((p) => p(x));
}

function compare(field: string, operator: string, value: unknown, size: Size, where: string): Predicate {
  if (NOT_SEARCHABLE.has(field.split('.')[0]!))
    throw new SearchTermError(`${where}: field "${field}" is not searchable`);
  const get = getter(field);
  if (operator === 'in' || operator === 'not_in') {
    if (!Array.isArray(value)) throw new SearchTermError(`${where}: ${operator} takes a list of values`);
    size.n += value.length;
    if (size.n > MAX_TERM_SIZE)
      throw new SearchTermError(`search_term too complex: more than ${MAX_TERM_SIZE} criteria and values`);
    if (field === 'timestamp') {
      const set = new Set(value.map((v) => instantOf(v, where).ms));
      return operator === 'in' ? (x) => set.has(x.s.ms) : (x) => !set.has(x.s.ms);
    }
    const set = new Set(value.map(scalar));
    const has = (x: TermSubject): boolean => anyValue(get(x), (v) => set.has(v));
    return operator === 'in' ? has : (x) => !has(x);
  }
  if (Array.isArray(value) || (typeof value === 'object' && value !== null))
    throw new SearchTermError(`${where}: ${operator} takes one value`);
  if (field === 'timestamp') {
    if (!['eq', 'ne', 'before', 'after'].includes(operator))
      throw new SearchTermError(`${where}: timestamp takes eq, before, after, in, not_in`);
    const t = instantOf(value, where);
    const cmp = (x: TermSubject): number => x.s.ms - t.ms || x.s.subNs - t.subNs;
    if (operator === 'before') return (x) => cmp(x) < 0;
    if (operator === 'after') return (x) => cmp(x) > 0;
    if (operator === 'eq') return (x) => cmp(x) === 0;
    return (x) => cmp(x) !== 0;
  }
  if (['lt', 'gt', 'lte', 'gte'].includes(operator)) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new SearchTermError(`${where}: ${operator} takes a number`);
    const test =
      operator === 'lt'
        ? (v: number) => v < n
        : operator === 'gt'
          ? (v: number) => v > n
          : operator === 'lte'
            ? (v: number) => v <= n
            : (v: number) => v >= n;
    return (x) => anyRaw(get(x), (v) => typeof v === 'number' && test(v));
  }
  if (operator === 'before' || operator === 'after')
    throw new SearchTermError(`${where}: ${operator} is for timestamps`);
  const want = scalar(value);
  const test =
    operator === 'contains'
      ? (v: string) => v.includes(want)
      : operator === 'startsWith'
        ? (v: string) => v.startsWith(want)
        : operator === 'endsWith'
          ? (v: string) => v.endsWith(want)
          : (v: string) => v === want;
  if (operator === 'ne') return (x) => !anyValue(get(x), (v) => v === want);
  return (x) => anyValue(get(x), test);
}

function getter(field: string): (x: TermSubject) => unknown {
  if (field === 'id') return (x) => x.s.id;
  const path = field.split('.');
  return (x) => {
    let v: unknown = x.event();
    for (const k of path) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
}

function scalar(v: unknown): string {
  return String(v).toLowerCase();
}

function anyRaw(v: unknown, test: (v: unknown) => boolean): boolean {
  return Array.isArray(v) ? v.some(test) : test(v);
}

function anyValue(v: unknown, test: (v: string) => boolean): boolean {
  return anyRaw(v, (x) => x !== undefined && x !== null && typeof x !== 'object' && test(scalar(x)));
}

function instantOf(v: unknown, where: string): Instant {
  const t = typeof v === 'string' ? parseRfc3339(v) : undefined;
  if (!t) throw new SearchTermError(`${where}: "${String(v)}" is not an RFC 3339 timestamp`);
  return t;
}
