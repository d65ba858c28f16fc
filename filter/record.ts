// One record in, one JSON object out. Finds the raw event (spec/ecs-mapping.md "Input"), maps it with the
// chosen profile, carries the record's other fields, and never drops anything: what cannot be mapped comes
// back unchanged with `event.kind: "pipeline_error"` and an `error.message` that says why.
import { S, ws, fail, E_NONE, E_END, E_ESCAPE, E_UTF8, E_NUMBER, E_TRAILING } from './scan';
import { walk, resetCaptures, resetRecord, msgOk, msgS, msgE, msgErr, msgErrAt, msgIsObject, msgObjStart, capKind, memberCountGet, memberAt, K_NONE, K_STR } from './walk';
import { ET, SVC, MSG } from './schema';
import { P, outReset, outFinish, byte, bytes, lit, key, json, open, close, escaped, uint, outFirst, outSetFirst, clashes } from './out';
import { Lit, spanIs } from './mem';
import { nameOf } from './names';
import { useTable } from './fields';
import { writeEcs } from './ecs';
import { writeElastic, writeElasticEvent } from './elastic';
import { TREE_MAX_DEPTH } from './tree';
import { LBRACE, RBRACE, QUOTE, COMMA } from './chars';

export const PROFILE_ECS = 0;
export const PROFILE_ELASTIC = 1;

const M_NOT_OBJECT = new Lit('record is not a JSON object: ');
const M_NOT_DI = new Lit('not a JumpCloud Directory Insights event: the record has no `message` holding a JSON object and no `event_type` or `service` field');
const M_MSG_NOT_STRING = new Lit('not a JumpCloud Directory Insights event: `message` is not a string and the record has no `event_type` or `service` field');
const M_MSG_NOT_OBJECT = new Lit('`message` does not hold a JSON object (and the record has no `event_type` or `service` field)');
const M_MSG_INVALID = new Lit('`message` is not valid JSON: ');
const M_AT = new Lit(' at offset ');
const M_CUT = new Lit('jumpcloud.event: nesting deeper than ');
const M_CUT2 = new Lit(' levels was cut');
const R_END = new Lit('the text ends inside a value');
const R_CHAR = new Lit('unexpected character');
const R_ESCAPE = new Lit('invalid escape sequence');
const R_UTF8 = new Lit('invalid UTF-8');
const R_NUMBER = new Lit('invalid number');
const R_TRAILING = new Lit('text after the JSON object');

let recStart: usize = 0;
let recEnd: usize = 0;

function reason(code: i32): Lit {
  if (code == E_END) return R_END;
  if (code == E_ESCAPE) return R_ESCAPE;
  if (code == E_UTF8) return R_UTF8;
  if (code == E_NUMBER) return R_NUMBER;
  if (code == E_TRAILING) return R_TRAILING;
  return R_CHAR;
}

/** `"error":{"message":"<m><reason> at offset <n>"}` (no reason when code is E_NONE). */
function errorMessage(dotted: bool, m: Lit, code: i32, at: usize): void {
  if (dotted) key('error.message');
  else { open('error'); key('message'); }
  byte(QUOTE);
  lit(m);
  if (code != E_NONE) { lit(reason(code)); lit(M_AT); uint(<u32>at); }
  byte(QUOTE);
  if (!dotted) close(RBRACE);
}

function hasMember(name: string): bool {
  const l = nameOf(name);
  const n = memberCountGet();
  for (let i = 0; i < n; i++) {
    const m = memberAt(i);
    const ks = <usize>load<u32>(m, 8), ke = <usize>load<u32>(m, 12);
    if (spanIs(ks, ke - ks, l)) return true;
  }
  return false;
}

/** The record's members, except `message` when `skipMessage` and those a mapping wrote. */
function passThrough(skipMessage: bool): void {
  const n = memberCountGet();
  const mapped = P;
  for (let i = 0; i < n; i++) {
    const m = memberAt(i);
    const ks = <usize>load<u32>(m, 8), ke = <usize>load<u32>(m, 12);
    if (skipMessage && spanIs(ks, ke - ks, nameOf('message'))) continue;
    if (clashes(ks, ke - ks, mapped)) continue;
    if (!outFirst()) byte(COMMA);
    const a = <usize>load<u32>(m);
    bytes(a, <usize>load<u32>(m, 4) - a);
    outSetFirst(false);
  }
}

/** Not JSON at all: keep the text whole under event.original. */
function badRecord(code: i32, at: usize): usize {
  outReset();
  byte(LBRACE);
  open('event');
  key('kind'); json('"pipeline_error"');
  key('original'); escaped(recStart, recEnd - recStart);
  close(RBRACE);
  errorMessage(false, M_NOT_OBJECT, code, at);
  byte(RBRACE);
  return outFinish();
}

/** A JSON object that is not a DI event: every field unchanged, plus event.kind and error.message. */
function notAnEvent(m: Lit, code: i32, at: usize): usize {
  outReset();
  byte(LBRACE);
  passThrough(false);
  const dottedEvent = hasMember('event');
  if (dottedEvent) key('event.kind');
  else { open('event'); key('kind'); }
  json('"pipeline_error"');
  if (!dottedEvent) close(RBRACE);
  errorMessage(hasMember('error'), m, code, at);
  byte(RBRACE);
  return outFinish();
}

function originalFromMessage(): void { byte(QUOTE); bytes(msgS, msgE - msgS); byte(QUOTE); }
function originalFromRecord(): void { escaped(recStart, recEnd - recStart); }

export function mapRecord(rec: usize, len: usize, profile: i32): usize {
  // Fluent Bit's length may count the NUL terminator.
  while (len > 0 && load<u8>(rec + len - 1) == 0) len--;
  recStart = rec;
  recEnd = rec + len;
  S.pos = rec;
  S.end = rec + len;
  S.base = rec;
  S.esc = false;
  S.err = E_NONE;
  // Only jumpcloud_ecs may skip what it never writes; the elastic profile copies the whole event.
  S.lean = profile == PROFILE_ECS;
  resetRecord();
  resetCaptures(1);
  resetCaptures(0);
  ws();
  const objStart = S.pos;
  let ok = walk(1, true);
  if (ok) {
    ws();
    if (S.pos != S.end) ok = fail(E_TRAILING);
  }
  if (!ok) return badRecord(S.err, S.errAt);

  let t = 0;
  if (!msgOk) {
    if (capKind(1, ET) == K_NONE && capKind(1, SVC) == K_NONE) {
      const mk = capKind(1, MSG);
      if (mk == K_NONE) return notAnEvent(M_NOT_DI, E_NONE, 0);
      if (mk != K_STR) return notAnEvent(M_MSG_NOT_STRING, E_NONE, 0);
      if (!msgIsObject) return notAnEvent(M_MSG_NOT_OBJECT, E_NONE, 0);
      return notAnEvent(M_MSG_INVALID, msgErr, msgErrAt);
    }
    t = 1;
  }
  const esc = t == 0;
  const textStart = esc ? msgObjStart : objStart;
  const textEnd = esc ? msgE : recEnd;
  useTable(t);
  outReset();
  byte(LBRACE);
  if (profile == PROFILE_ECS) {
    key('message');
    if (esc) originalFromMessage(); else originalFromRecord();
    writeEcs(t, textEnd, esc);
  } else {
    writeElasticEvent(esc ? originalFromMessage : originalFromRecord);
    if (writeElastic(t, textStart, textEnd, esc)) {
      open('error'); key('message');
      byte(QUOTE); lit(M_CUT); uint(<u32>TREE_MAX_DEPTH); lit(M_CUT2); byte(QUOTE);
      close(RBRACE);
    }
  }
  if (esc) passThrough(true);
  byte(RBRACE);
  return outFinish();
}
