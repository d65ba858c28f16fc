// Profile `jumpcloud_elastic`: what Elastic's `jumpcloud` integration produces (spec/ecs-mapping.md), one
// line per output member.
import * as F from './schema';
import { has, isBool, isTrue, isNum, copy, copyIn, hasIp, value, valueContent, distinctElem, e, s, plain, raw }
  from './fields';
import { key, json, open, openArray, close, byte, P, outFirst, rollback } from './out';
import { rowOf, writeMembers, outcomeOf, targetOf, T_NONE, T_USER, T_GROUP, T_HOST } from './categorize';
import { parseTime, writeMillis } from './time';
import { writeTree, treeCut } from './tree';
import { writeSourceUser, writeUserAgent } from './shared';
import { QUOTE, MINUS, RBRACE, RBRACKET } from './chars';

/** Writes the mapped members except `event.original` (the caller writes it inside `event`). Returns whether jumpcloud.event was cut. */
export function writeElastic(t: i32, textStart: usize, textEnd: usize, esc: bool): bool {
  open('ecs');
  key('version'); json('"8.11.0"');
  close(RBRACE);

  if (has(F.TS) && plain(F.TS) && parseTime(s(F.TS), e(F.TS))) { key('@timestamp'); writeMillis(); }

  const cip = hasIp(F.CIP);
  const sip = hasIp(F.SRCIP);
  const jip = hasIp(F.JPD_IP);
  open('client');
  if (cip) { key('ip'); value(F.CIP); }
  open('geo');
  copy('country_iso_code', F.GEO_CC);
  copy('continent_code', F.GEO_CONT);
  if (has(F.GEO_CC) && has(F.GEO_RC)) {
    key('region_iso_code');
    byte(QUOTE); valueContent(F.GEO_CC); byte(MINUS); valueContent(F.GEO_RC); byte(QUOTE);
  }
  copy('region_name', F.GEO_RN);
  copy('timezone', F.GEO_TZ);
  if (isNum(F.GEO_LAT) && isNum(F.GEO_LON)) {
    open('location');
    key('lat'); raw(F.GEO_LAT);
    key('lon'); raw(F.GEO_LON);
    close(RBRACE);
  }
  close(RBRACE);
  close(RBRACE);

  open('source');
  if (sip) { key('ip'); value(F.SRCIP); }
  writeSourceUser();
  close(RBRACE);

  // What the resource is: the target user, the group, or the host (when the event has no `system`).
  const tk = has(F.RES_TYPE) && plain(F.RES_TYPE) ? targetOf(s(F.RES_TYPE), e(F.RES_TYPE) - s(F.RES_TYPE)) : T_NONE;
  const tName = tk == T_USER ? (has(F.RES_USER) ? F.RES_USER : has(F.RES_NAME) ? F.RES_NAME : -1) : -1;
  open('host');
  if (tk == T_HOST && !has(F.SYS_HOST) && !has(F.SYS_ID)) {
    copy('hostname', F.RES_HOST);
    copy('id', F.RES_ID);
    copy('name', has(F.RES_DISPLAY) ? F.RES_DISPLAY : F.RES_NAME);
  } else {
    copy('hostname', F.SYS_HOST);
    copy('id', F.SYS_ID);
  }
  close(RBRACE);

  if (tk == T_GROUP) {
    open('group');
    copy('id', F.RES_ID);
    copy('name', F.RES_NAME);
    close(RBRACE);
  }

  if (tk == T_USER) {
    open('user');
    copy('name', F.USER);
    open('target');
    copy('email', F.RES_EMAIL);
    copy('id', F.RES_ID);
    if (tName >= 0) copy('name', tName);
    close(RBRACE);
    close(RBRACE);
  } else copyIn('user', 'name', F.USER);
  writeUserAgent();
  copyIn('process', 'name', F.PROC);

  copy('message', F.MSG);

  open('related');
  openArray('ip');
  if (cip) distinctElem(F.CIP, -1, -1);
  if (sip) distinctElem(F.SRCIP, cip ? F.CIP : -1, -1);
  if (jip) distinctElem(F.JPD_IP, cip ? F.CIP : -1, sip ? F.SRCIP : -1);
  close(RBRACKET);
  openArray('user');
  if (has(F.IB_USER)) distinctElem(F.IB_USER, -1, -1);
  if (has(F.USER)) distinctElem(F.USER, has(F.IB_USER) ? F.IB_USER : -1, -1);
  if (tName >= 0) distinctElem(tName, has(F.IB_USER) ? F.IB_USER : -1, has(F.USER) ? F.USER : -1);
  close(RBRACKET);
  close(RBRACE);

  open('jumpcloud');
  const m = P, f0 = outFirst();
  key('event');
  if (!writeTree(textStart, textEnd, esc, F.C_ROOT)) rollback(m, f0);
  const cut = treeCut;
  close(RBRACE);
  return cut;
}

/** The `event` object; `event.original` is written by `original()`. */
export function writeElasticEvent(original: () => void): void {
  open('event');
  copy('action', F.ET);
  // kind, category and type: the type's row of categories.ts, or kind "event" alone for a type not declared.
  const r = has(F.ET) && plain(F.ET) ? rowOf(s(F.ET), e(F.ET) - s(F.ET)) : -1;
  writeMembers(r);
  copy('id', F.ID);
  copy('module', F.SVC);
  // The type's own outcome (scheduled_report_run_failed), unless the event says it.
  let out = <i32>outcomeOf(r);
  if (isBool(F.SSO)) out = isTrue(F.SSO) ? 1 : 2;
  if (isBool(F.SUCC)) out = isTrue(F.SUCC) ? 1 : 2;
  key('outcome'); json(out == 1 ? '"success"' : out == 2 ? '"failure"' : '"unknown"');
  key('original');
  original();
  close(RBRACE);
}
