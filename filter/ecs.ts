// Profile `jumpcloud_ecs`: the Sekoia.io intake shape (spec/ecs-mapping.md), one line per output member.
import { Lit, spanIs } from './mem';
import * as F from './schema';
import { has, isBool, isTrue, copy, copyIn, is, hasIp, value, distinctElem, e, s, plain } from './fields';
import { key, json, open, openArray, openElem, close, byte, content, P, outPtr, outFirst, rollback } from './out';
import { rowCount, rowAt, capKind, capStart, capFlags, K_OBJ, K_STR, K_TRUE, K_FALSE, K_NUM, X_DECODE, X_EMPTY } from './walk';
import { parseTime, writeMicros } from './time';
import { writeTree } from './tree';
import { writeSourceUser, writeUserAgent } from './shared';
import { QUOTE, RBRACE, RBRACKET } from './chars';

// Changes whose from/to are kept (lower-cased), per the Sekoia intake.
const KEPT = ['activated', 'password_date', 'state', 'suspended', 'enable_user_portal_multifactor',
  'mfa.exclusion', 'mfa.exclusionUntil', 'totp_enabled'];
const keptLits = new StaticArray<Lit>(KEPT.length);
for (let i = 0; i < KEPT.length; i++) keptLits[i] = new Lit(KEPT[i]);

function kept(p: usize, n: usize): bool {
  for (let i = 0; i < keptLits.length; i++) if (spanIs(p, n, unchecked(keptLits[i]))) return true;
  return false;
}

// Sekoia's categories: these nine types only (the elastic profile's are categories.ts).
const AUTH = ['ldap_bind', 'user_login_attempt', 'sso_auth', 'admin_login_attempt', 'login_attempt'];
const IAM = ['user_password_warning_email', 'user_password_reset_request', 'user_activation_email', 'user_unlocked'];
const authLits = new StaticArray<Lit>(AUTH.length);
const iamLits = new StaticArray<Lit>(IAM.length);
for (let i = 0; i < AUTH.length; i++) authLits[i] = new Lit(AUTH[i]);
for (let i = 0; i < IAM.length; i++) iamLits[i] = new Lit(IAM[i]);

const CAT_NONE = 0;
const CAT_AUTH = 1;
const CAT_IAM = 2;

@inline function category(f: i32): i32 {
  if (!has(f) || !plain(f)) return CAT_NONE;
  const a = s(f), n = e(f) - a;
  const na = authLits.length, ni = iamLits.length; // read once, not at every turn
  for (let i = 0; i < na; i++) if (spanIs(a, n, unchecked(authLits[i]))) return CAT_AUTH;
  for (let i = 0; i < ni; i++) if (spanIs(a, n, unchecked(iamLits[i]))) return CAT_IAM;
  return CAT_NONE;
}

/** Outcome from success / sso_token_success: 0 none, 1 success, 2 failure. */
@inline function outcome(): i32 {
  if (is(F.ET, 'sso_auth') && isBool(F.SSO)) return isTrue(F.SSO) ? 1 : 2;
  if (isBool(F.SUCC)) return isTrue(F.SUCC) ? 1 : 2;
  return 0;
}

@inline function writeOutcome(out: i32): void {
  if (out != 0) { key('outcome'); json(out == 1 ? '"success"' : '"failure"'); }
}

/** A change's from/to as a lower-cased string: strings, booleans and numbers only. */
function lowered(name: string, t: i32, row: i32, col: i32): void {
  const p = rowAt(t, row, col);
  const a = <usize>load<u32>(p), b = <usize>load<u32>(p, 4);
  const k = <u8>(load<u32>(p, 8) & 0xff);
  const x = <u8>(load<u32>(p, 8) >> 8);
  if (k == K_STR) {
    if (b == a) return;
    key(name);
    byte(QUOTE);
    const from = P;
    content(a, b, (x & X_DECODE) != 0);
    // ASCII lower-casing; escapes (`\n`, `\u00C9`) keep their meaning under it.
    const o = outPtr();
    for (let q = from; q < P; q++) {
      const c = load<u8>(o + q);
      if (c >= 0x41 && c <= 0x5a) store<u8>(o + q, c | 0x20);
    }
    byte(QUOTE);
  } else if (k == K_TRUE) { key(name); json('"true"'); }
  else if (k == K_FALSE) { key(name); json('"false"'); }
  else if (k == K_NUM) { key(name); byte(QUOTE); content(a, b, false); byte(QUOTE); }
}

/** jumpcloud.changes: one {field} per change, from/to for the kept fields. */
function changes(t: i32): void {
  const n = rowCount(t);
  if (n == 0) return;
  const col = F.fieldColumn(F.CH_FIELD);
  openArray('changes');
  for (let i = 0; i < n; i++) {
    const p = rowAt(t, i, col);
    const a = <usize>load<u32>(p), b = <usize>load<u32>(p, 4);
    const k = <u8>(load<u32>(p, 8) & 0xff);
    const x = <u8>(load<u32>(p, 8) >> 8);
    if (k != K_STR || b == a) continue;
    openElem();
    key('field');
    byte(QUOTE); content(a, b, (x & X_DECODE) != 0); byte(QUOTE);
    if ((x & X_DECODE) == 0 && kept(a, b - a)) {
      lowered('from', t, i, F.fieldColumn(F.CH_FROM));
      lowered('to', t, i, F.fieldColumn(F.CH_TO));
    }
    close(RBRACE);
  }
  close(RBRACKET);
}

/** Writes the mapped members (the caller wrote `{` and `message`). */
export function writeEcs(t: i32, textEnd: usize, esc: bool): void {
  const out = outcome();
  const cat = category(F.ET);
  const ip = hasIp(F.CIP);

  open('event');
  copy('action', F.ET);
  if (cat != CAT_NONE) { key('category'); json(cat == CAT_AUTH ? '["authentication"]' : '["iam"]'); key('type'); json('["info"]'); }
  writeOutcome(out);
  close(RBRACE);

  if (has(F.TS) && plain(F.TS) && parseTime(s(F.TS), e(F.TS))) { key('@timestamp'); writeMicros(); }

  open('action');
  writeOutcome(out);
  if (out == 2) copy('outcome_reason', F.ERR);
  close(RBRACE);

  open('client');
  copy('address', F.CIP);
  if (ip) { key('ip'); value(F.CIP); }
  close(RBRACE);

  // Guards before open(): an object opened and rolled back costs more than the test, and most events lack some.
  if (has(F.SYS_ID) || has(F.SYS_HOST)) {
    open('host');
    copy('id', F.SYS_ID);
    copy('name', F.SYS_HOST);
    close(RBRACE);
  }

  open('jumpcloud');
  if (capKind(t, F.ASSOC) == K_OBJ && (capFlags(t, F.ASSOC) & X_EMPTY) == 0) {
    const m = P, f0 = outFirst();
    key('association');
    if (!writeTree(capStart(t, F.ASSOC), textEnd, esc, F.C_SKIP)) rollback(m, f0);
  }
  changes(t);
  copy('event_type', F.ET);
  copy('id', F.ID);
  close(RBRACE);

  open('observer');
  key('vendor'); json('"Jumpcloud"');
  close(RBRACE);

  copyIn('process', 'name', F.PROC);

  const users = has(F.USER) || has(F.IB_USER);
  if (ip || users) {
    open('related');
    if (ip) { openArray('ip'); distinctElem(F.CIP, -1, -1); close(RBRACKET); }
    if (users) {
      openArray('user');
      if (has(F.USER)) distinctElem(F.USER, -1, -1);
      if (has(F.IB_USER)) distinctElem(F.IB_USER, has(F.USER) ? F.USER : -1, -1);
      close(RBRACKET);
    }
    close(RBRACE);
  }

  if (is(F.ET, 'sso_auth')) {
    open('service');
    copy('name', F.APP_NAME);
    close(RBRACE);
  }

  open('source');
  if (ip) { key('address'); value(F.CIP); key('ip'); value(F.CIP); }
  writeSourceUser();
  close(RBRACE);

  const target = has(F.RES_EMAIL) || has(F.RES_ID) || has(F.RES_USER);
  if (target || has(F.USER)) {
    open('user');
    copy('name', F.USER);
    if (target) {
      open('target');
      copy('email', F.RES_EMAIL);
      copy('id', F.RES_ID);
      copy('name', F.RES_USER);
      close(RBRACE);
    }
    close(RBRACE);
  }

  writeUserAgent();
}
