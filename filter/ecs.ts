// Profile `jumpcloud_ecs`: the Sekoia.io intake shape (spec/ecs-mapping.md).
import { Lit, spanIs } from './mem';
import * as F from './keys';
import * as L from './lits';
import { has, isBool, isTrue, copy, is, hasIp, value, distinctElem, category, CAT_AUTH, CAT_NONE, e, s, plain } from './fields';
import { key, lit, open, openArray, openElem, close, byte, content, P, outPtr, outFirst, rollback } from './out';
import { rowCount, rowAt, capKind, capStart, capEnd, capFlags, K_OBJ, K_STR, K_TRUE, K_FALSE, K_NUM, X_DECODE, X_EMPTY } from './walk';
import { parseTime, writeMicros } from './time';
import { writeTree } from './tree';
import { T_OTHER } from './keys';
import { Top, topEmitted } from './top';

// Changes whose from/to are kept (lower-cased), per the Sekoia intake.
const KEPT = ['activated', 'password_date', 'state', 'suspended', 'enable_user_portal_multifactor',
  'mfa.exclusion', 'mfa.exclusionUntil', 'totp_enabled'];
const keptLits = new StaticArray<Lit>(KEPT.length);
for (let i = 0; i < KEPT.length; i++) keptLits[i] = new Lit(KEPT[i]);

function kept(p: usize, n: usize): bool {
  for (let i = 0; i < keptLits.length; i++) if (spanIs(p, n, unchecked(keptLits[i]))) return true;
  return false;
}

/** Outcome from success / sso_token_success: 0 none, 1 success, 2 failure. */
@inline function outcome(): i32 {
  if (is(F.F_ET, L.S_SSO_AUTH) && isBool(F.F_SSO)) return isTrue(F.F_SSO) ? 1 : 2;
  if (isBool(F.F_SUCC)) return isTrue(F.F_SUCC) ? 1 : 2;
  return 0;
}

/** A change's from/to as a lower-cased string: strings, booleans and numbers only. */
function lowered(name: Lit, t: i32, row: i32, f: i32): void {
  const p = rowAt(t, row, f);
  const a = <usize>load<u32>(p), b = <usize>load<u32>(p, 4);
  const k = <u8>(load<u32>(p, 8) & 0xff);
  const x = <u8>(load<u32>(p, 8) >> 8);
  if (k == K_STR) {
    if (b == a) return;
    key(name);
    byte(0x22);
    const from = P;
    content(a, b, (x & X_DECODE) != 0);
    // ASCII lower-casing; escapes (`\n`, `\u00C9`) keep their meaning under it.
    const o = outPtr();
    for (let q = from; q < P; q++) {
      const c = load<u8>(o + q);
      if (c >= 0x41 && c <= 0x5a) store<u8>(o + q, c | 0x20);
    }
    byte(0x22);
  } else if (k == K_TRUE) { key(name); lit(L.V_TRUE); }
  else if (k == K_FALSE) { key(name); lit(L.V_FALSE); }
  else if (k == K_NUM) { key(name); byte(0x22); content(a, b, false); byte(0x22); }
}

function changes(t: i32): void {
  const n = rowCount(t);
  if (n == 0) return;
  openArray(L.L_CHANGES);
  for (let i = 0; i < n; i++) {
    const p = rowAt(t, i, 0);
    const a = <usize>load<u32>(p), b = <usize>load<u32>(p, 4);
    const k = <u8>(load<u32>(p, 8) & 0xff);
    const x = <u8>(load<u32>(p, 8) >> 8);
    if (k != K_STR || b == a) continue;
    openElem();
    key(L.L_FIELD);
    byte(0x22); content(a, b, (x & X_DECODE) != 0); byte(0x22);
    if ((x & X_DECODE) == 0 && kept(a, b - a)) {
      lowered(L.L_FROM, t, i, 1);
      lowered(L.L_TO, t, i, 2);
    }
    close(0x7d);
  }
  close(0x5d);
}

/** Writes the mapped members (the caller wrote `{` and `message`). */
export function writeEcs(t: i32, textEnd: usize, esc: bool): void {
  const out = outcome();
  const cat = category(F.F_ET, true);
  open(L.L_EVENT);
  copy(L.L_ACTION, F.F_ET);
  if (cat != CAT_NONE) {
    key(L.L_CATEGORY); lit(cat == CAT_AUTH ? L.V_AUTHENTICATION : L.V_IAM);
    key(L.L_TYPE); lit(L.V_INFO);
  }
  if (out != 0) { key(L.L_OUTCOME); lit(out == 1 ? L.V_SUCCESS : L.V_FAILURE); }
  topEmitted(Top.EVENT, close(0x7d));

  if (has(F.F_TS) && plain(F.F_TS) && parseTime(s(F.F_TS), e(F.F_TS))) {
    key(L.L_TIMESTAMP); writeMicros();
    topEmitted(Top.TIMESTAMP, true);
  }

  open(L.L_ACTION);
  if (out != 0) { key(L.L_OUTCOME); lit(out == 1 ? L.V_SUCCESS : L.V_FAILURE); }
  if (out == 2) copy(L.L_OUTCOME_REASON, F.F_ERR);
  topEmitted(Top.ACTION, close(0x7d));

  const ip = hasIp(F.F_CIP);
  open(L.L_CLIENT);
  copy(L.L_ADDRESS, F.F_CIP);
  if (ip) { key(L.L_IP); value(F.F_CIP); }
  topEmitted(Top.CLIENT, close(0x7d));

  // Guards before open(): an object opened and rolled back costs more than the test, and most events lack some.
  if (has(F.F_SYS_ID) || has(F.F_SYS_HOST)) {
    open(L.L_HOST);
    copy(L.L_ID, F.F_SYS_ID);
    copy(L.L_NAME, F.F_SYS_HOST);
    topEmitted(Top.HOST, close(0x7d));
  }

  open(L.L_JUMPCLOUD);
  if (capKind(t, F.F_ASSOC) == K_OBJ && (capFlags(t, F.F_ASSOC) & X_EMPTY) == 0) {
    const m = P, f0 = outFirst();
    key(L.L_ASSOCIATION);
    if (!writeTree(capStart(t, F.F_ASSOC), textEnd, esc, T_OTHER)) rollback(m, f0);
  }
  changes(t);
  copy(L.L_EVENT_TYPE, F.F_ET);
  copy(L.L_ID, F.F_ID);
  topEmitted(Top.JUMPCLOUD, close(0x7d));

  open(L.L_OBSERVER);
  key(L.L_VENDOR); lit(L.V_JUMPCLOUD);
  topEmitted(Top.OBSERVER, close(0x7d));

  if (has(F.F_PROC)) {
    open(L.L_PROCESS);
    copy(L.L_NAME, F.F_PROC);
    topEmitted(Top.PROCESS, close(0x7d));
  }

  const users = has(F.F_USER) || has(F.F_IB_USER);
  if (ip || users) {
    open(L.L_RELATED);
    if (ip) { openArray(L.L_IP); distinctElem(F.F_CIP, -1, -1); close(0x5d); }
    if (users) {
      openArray(L.L_USER);
      if (has(F.F_USER)) distinctElem(F.F_USER, -1, -1);
      if (has(F.F_IB_USER)) distinctElem(F.F_IB_USER, has(F.F_USER) ? F.F_USER : -1, -1);
      close(0x5d);
    }
    topEmitted(Top.RELATED, close(0x7d));
  }

  if (is(F.F_ET, L.S_SSO_AUTH)) {
    open(L.L_SERVICE);
    copy(L.L_NAME, F.F_APP_NAME);
    topEmitted(Top.SERVICE, close(0x7d));
  }

  open(L.L_SOURCE);
  copy(L.L_ADDRESS, F.F_CIP);
  if (ip) { key(L.L_IP); value(F.F_CIP); }
  writeSourceUser();
  topEmitted(Top.SOURCE, close(0x7d));

  const target = has(F.F_RES_EMAIL) || has(F.F_RES_ID) || has(F.F_RES_USER);
  if (target || has(F.F_USER)) {
    open(L.L_USER);
    copy(L.L_NAME, F.F_USER);
    if (target) {
      open(L.L_TARGET);
      copy(L.L_EMAIL, F.F_RES_EMAIL);
      copy(L.L_ID, F.F_RES_ID);
      copy(L.L_NAME, F.F_RES_USER);
      close(0x7d);
    }
    topEmitted(Top.USER, close(0x7d));
  }

  writeUserAgent();
}

/** source.user ← initiated_by (both profiles). */
@inline export function writeSourceUser(): void {
  open(L.L_USER);
  copy(L.L_EMAIL, F.F_IB_EMAIL);
  copy(L.L_ID, F.F_IB_ID);
  copy(L.L_NAME, F.F_IB_USER);
  close(0x7d);
}

@inline export function writeUserAgent(): void {
  open(L.L_USER_AGENT);
  open(L.L_DEVICE);
  copy(L.L_NAME, F.F_UA_DEV);
  close(0x7d);
  copy(L.L_NAME, F.F_UA_NAME);
  open(L.L_OS);
  copy(L.L_FULL, F.F_UA_OSF);
  copy(L.L_NAME, F.F_UA_OSN);
  copy(L.L_VERSION, F.F_UA_OSV);
  close(0x7d);
  copy(L.L_VERSION, F.F_UA_VER);
  topEmitted(Top.USER_AGENT, close(0x7d));
}
