// The top-level keys a mapping wrote: a pass-through field of the record with the same name gives way
// ("a mapped field wins on a name clash").
import { Lit, spanIs } from './mem';
import * as L from './lits';

export enum Top { MESSAGE, TIMESTAMP, EVENT, ACTION, CLIENT, HOST, JUMPCLOUD, OBSERVER, PROCESS, RELATED, SERVICE, SOURCE, USER, USER_AGENT, ECS, ERROR, COUNT }

const names = new StaticArray<Lit>(Top.COUNT);
names[Top.MESSAGE] = L.L_MESSAGE;
names[Top.TIMESTAMP] = L.L_TIMESTAMP;
names[Top.EVENT] = L.L_EVENT;
names[Top.ACTION] = L.L_ACTION;
names[Top.CLIENT] = L.L_CLIENT;
names[Top.HOST] = L.L_HOST;
names[Top.JUMPCLOUD] = L.L_JUMPCLOUD;
names[Top.OBSERVER] = L.L_OBSERVER;
names[Top.PROCESS] = L.L_PROCESS;
names[Top.RELATED] = L.L_RELATED;
names[Top.SERVICE] = L.L_SERVICE;
names[Top.SOURCE] = L.L_SOURCE;
names[Top.USER] = L.L_USER;
names[Top.USER_AGENT] = L.L_USER_AGENT;
names[Top.ECS] = L.L_ECS;
names[Top.ERROR] = L.L_ERROR;

const emitted = new StaticArray<bool>(Top.COUNT);

export function topReset(): void {
  for (let i = 0; i < Top.COUNT; i++) unchecked(emitted[i] = false);
}

@inline export function topEmitted(k: Top, yes: bool): void {
  if (yes) unchecked(emitted[k] = true);
}

/** Did the mapping write a top-level key spelled like [s, s+n)? */
export function clashes(s: usize, n: usize): bool {
  for (let i = 0; i < Top.COUNT; i++) {
    if (unchecked(emitted[i]) && spanIs(s, n, unchecked(names[i]))) return true;
  }
  return false;
}
