// Output objects both profiles write the same way (spec/ecs-mapping.md: "as in jumpcloud_ecs").
import * as F from './schema';
import { copy } from './fields';
import { open, close } from './out';
import { RBRACE } from './chars';

/** source.user ← initiated_by. */
@inline export function writeSourceUser(): void {
  open('user');
  copy('email', F.IB_EMAIL);
  copy('id', F.IB_ID);
  copy('name', F.IB_USER);
  close(RBRACE);
}

/** user_agent ← useragent (or user_agent). */
@inline export function writeUserAgent(): void {
  open('user_agent');
  open('device');
  copy('name', F.UA_DEV);
  close(RBRACE);
  copy('name', F.UA_NAME);
  open('os');
  copy('full', F.UA_OSF);
  copy('name', F.UA_OSN);
  copy('version', F.UA_OSV);
  close(RBRACE);
  copy('version', F.UA_VER);
  close(RBRACE);
}
