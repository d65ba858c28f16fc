// Profile `jumpcloud_elastic`: what Elastic's `jumpcloud` integration produces (spec/ecs-mapping.md).
import * as F from './keys';
import * as L from './lits';
import { has, isBool, isTrue, isNum, copy, hasIp, value, valueContent, distinctElem, category, CAT_AUTH, CAT_NONE, e, s, plain, raw } from './fields';
import { key, lit, open, openArray, close, byte, P, outFirst, rollback, elem } from './out';
import { capStart, capKind, K_OBJ } from './walk';
import { parseTime, writeMillis } from './time';
import { writeTree, treeCut } from './tree';
import { T_ROOT } from './keys';
import { writeUserAgent, writeSourceUser } from './ecs';
import { Top, topEmitted } from './top';

/** Writes the mapped members except `event.original` (the caller writes it inside `event`). Returns whether jumpcloud.event was cut. */
export function writeElastic(t: i32, textStart: usize, textEnd: usize, esc: bool): bool {
  open(L.L_ECS);
  key(L.L_VERSION); lit(L.V_ECS_VERSION);
  topEmitted(Top.ECS, close(0x7d));

  if (has(F.F_TS) && plain(F.F_TS) && parseTime(s(F.F_TS), e(F.F_TS))) {
    key(L.L_TIMESTAMP); writeMillis();
    topEmitted(Top.TIMESTAMP, true);
  }

  const cip = hasIp(F.F_CIP);
  const sip = hasIp(F.F_SRCIP);
  const jip = hasIp(F.F_JPD_IP);
  open(L.L_CLIENT);
  if (cip) { key(L.L_IP); value(F.F_CIP); }
  open(L.L_GEO);
  copy(L.L_COUNTRY_ISO, F.F_GEO_CC);
  copy(L.L_CONTINENT, F.F_GEO_CONT);
  if (has(F.F_GEO_CC) && has(F.F_GEO_RC)) {
    key(L.L_REGION_ISO);
    byte(0x22); valueContent(F.F_GEO_CC); byte(0x2d); valueContent(F.F_GEO_RC); byte(0x22);
  }
  copy(L.L_REGION_NAME, F.F_GEO_RN);
  copy(L.L_TIMEZONE, F.F_GEO_TZ);
  if (isNum(F.F_GEO_LAT) && isNum(F.F_GEO_LON)) {
    open(L.L_LOCATION);
    key(L.L_LAT); raw(F.F_GEO_LAT);
    key(L.L_LON); raw(F.F_GEO_LON);
    close(0x7d);
  }
  close(0x7d);
  topEmitted(Top.CLIENT, close(0x7d));

  open(L.L_SOURCE);
  if (sip) { key(L.L_IP); value(F.F_SRCIP); }
  writeSourceUser();
  topEmitted(Top.SOURCE, close(0x7d));

  open(L.L_HOST);
  copy(L.L_HOSTNAME, F.F_SYS_HOST);
  copy(L.L_ID, F.F_SYS_ID);
  topEmitted(Top.HOST, close(0x7d));

  open(L.L_USER);
  copy(L.L_NAME, F.F_USER);
  topEmitted(Top.USER, close(0x7d));

  writeUserAgent();

  open(L.L_PROCESS);
  copy(L.L_NAME, F.F_PROC);
  topEmitted(Top.PROCESS, close(0x7d));

  if (has(F.F_MSG)) { copy(L.L_MESSAGE, F.F_MSG); topEmitted(Top.MESSAGE, true); }

  open(L.L_RELATED);
  openArray(L.L_IP);
  if (cip) distinctElem(F.F_CIP, -1, -1);
  if (sip) distinctElem(F.F_SRCIP, cip ? F.F_CIP : -1, -1);
  if (jip) distinctElem(F.F_JPD_IP, cip ? F.F_CIP : -1, sip ? F.F_SRCIP : -1);
  close(0x5d);
  openArray(L.L_USER);
  if (has(F.F_IB_USER)) distinctElem(F.F_IB_USER, -1, -1);
  if (has(F.F_USER)) distinctElem(F.F_USER, has(F.F_IB_USER) ? F.F_IB_USER : -1, -1);
  close(0x5d);
  topEmitted(Top.RELATED, close(0x7d));

  let cut = false;
  open(L.L_JUMPCLOUD);
  const m = P, f0 = outFirst();
  key(L.L_EVENT);
  if (!writeTree(textStart, textEnd, esc, T_ROOT)) rollback(m, f0);
  cut = treeCut;
  topEmitted(Top.JUMPCLOUD, close(0x7d));
  return cut;
}

/** The `event` object; `event.original` is written by `original()`. */
export function writeElasticEvent(original: () => void): void {
  open(L.L_EVENT);
  copy(L.L_ACTION, F.F_ET);
  const cat = category(F.F_ET, false);
  if (cat != CAT_NONE) {
    key(L.L_CATEGORY); lit(cat == CAT_AUTH ? L.V_AUTHENTICATION : L.V_IAM);
    key(L.L_TYPE); lit(L.V_INFO);
  }
  copy(L.L_ID, F.F_ID);
  copy(L.L_MODULE, F.F_SVC);
  key(L.L_OUTCOME);
  let out = 0;
  if (isBool(F.F_SSO)) out = isTrue(F.F_SSO) ? 1 : 2;
  if (isBool(F.F_SUCC)) out = isTrue(F.F_SUCC) ? 1 : 2;
  lit(out == 1 ? L.V_SUCCESS : out == 2 ? L.V_FAILURE : L.V_UNKNOWN);
  key(L.L_ORIGINAL);
  original();
  topEmitted(Top.EVENT, close(0x7d));
}
