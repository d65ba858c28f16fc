// What every family renderer shares: the render context (seeded randomness plus a scenario's choices), who did
// it, from where, and the fields that close every event. Bodies are plain objects, serialized by JSON.stringify,
// so quotes, backslashes and non-ASCII text come out as the API writes them.
import type { CatalogEntry } from '../entry.js';
import { objectId, pick, type Rng } from '../random.js';
import {
  homeCountry,
  homeCountryOf,
  ipIn,
  PLACES,
  randomAdmin,
  randomSystem,
  randomUser,
  USER_AGENTS,
  type Identity,
  type Machine,
  type Person,
} from '../vocab.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Body = { [key: string]: Json };

/**
 * Placeholders the event store fills per stream (its org's id, the org's provider): one rendered body serves
 * every org. Plain ASCII, so they survive serialization unchanged and are found again exactly; 24 characters,
 * as long as the ids that replace them, so a body's bytes are copied once and its holes overwritten in place.
 */
export const ORG_HOLE = '@@@@@@@organization@@@@@';
export const PROVIDER_HOLE = '@@@@@@@@@provider@@@@@@@';

export interface RenderContext {
  readonly r: Rng;
  readonly entry: CatalogEntry;
  /** An org's stream, or a provider's Multi-Tenant-Portal stream. */
  readonly stream: 'org' | 'provider';
  /** Done by an admin of the org's provider (MSP): initiated_by.provider and provider are set. */
  readonly byProvider: boolean;
  /** A scenario's choices; unset ones are drawn at random. */
  readonly actor?: Identity;
  readonly target?: Identity;
  readonly success?: boolean;
  readonly mfa?: boolean;
  readonly clientIp?: string;
  /** Country code of the geoip (and of the client address unless clientIp is given). */
  readonly country?: string;
}

export interface Origin {
  readonly geoip: Body;
  readonly ip: string;
}

/**
 * Where the request came from: a country's geoip and an address there, or the scenario's. A person's own
 * requests (`who`) come from their home country, as people do not change countries between two logins (a
 * detection of logins from two countries must stay quiet on the generated stream).
 */
export function origin(ctx: RenderContext, who?: Identity): Origin {
  // Drawn even when the person's home decides, so that the body's other fields stay what they were.
  const drawn = ctx.country ?? homeCountry(ctx.r);
  const country = ctx.country ?? (who && who.kind !== 'system' ? homeCountryOf(who) : drawn);
  const place = PLACES[country] ?? PLACES.US!;
  return { geoip: { ...place.geoip }, ip: ctx.clientIp ?? ipIn(ctx.r, country) };
}

export const userAgent = (r: Rng): Body => ({ ...pick(r, USER_AGENTS) });

/** The actor when it is a person: the scenario's, else a random admin (or user, for user-initiated events). */
export function person(ctx: RenderContext, kind: 'admin' | 'user'): Person {
  if (ctx.actor && ctx.actor.kind !== 'system') return ctx.actor;
  return kind === 'admin' ? randomAdmin(ctx.r) : randomUser(ctx.r);
}

/** The target when it is a person: the scenario's, else a random user. */
export function targetPerson(ctx: RenderContext): Person {
  return ctx.target && ctx.target.kind !== 'system' ? ctx.target : randomUser(ctx.r);
}

export function targetSystem(ctx: RenderContext): Machine {
  return ctx.target?.kind === 'system' ? ctx.target : ctx.actor?.kind === 'system' ? ctx.actor : randomSystem(ctx.r);
}

/** `initiated_by` as DI writes it: admins by email, users by username, systems by id. */
export function initiatedBy(ctx: RenderContext, who: Identity): Body {
  if (who.kind === 'system') return { id: who.id, type: 'system' };
  if (who.kind === 'user') return { id: who.id, type: 'user', username: who.username };
  const out: Body = { id: who.id, type: 'admin' };
  if (ctx.byProvider) out.provider = PROVIDER_HOLE;
  out.email = who.email;
  return out;
}

/** The admin who did it (a provider's admin when ctx.byProvider). */
export const adminBy = (ctx: RenderContext): Body => initiatedBy(ctx, person(ctx, 'admin'));

/** Success of an attempt: the scenario's, else true with probability p. */
export const outcome = (ctx: RenderContext, p: number): boolean => ctx.success ?? ctx.r() < p;

/** The resource object of a person: users by username, admins by email. */
export function personResource(p: Person): Body {
  return p.kind === 'user'
    ? { id: p.id, type: 'user', username: p.username, email: p.email }
    : { id: p.id, type: 'admin', email: p.email };
}

export function systemObject(m: Machine): Body {
  return { id: m.id, hostname: m.hostname, displayName: m.displayName, os: m.os, version: m.version };
}

/** What `provider` holds per service (absent where the attribute tables do not list it). */
function providerValue(ctx: RenderContext): Json | undefined {
  const s = ctx.entry.service;
  if (s === 'sso') return '';
  if (ctx.stream === 'provider' || ctx.byProvider) return PROVIDER_HOLE;
  if (
    [
      'radius',
      'ldap',
      'mdm',
      'notifications',
      'object_storage',
      'alerts',
      'saas_app_management',
      'asset_management',
    ].includes(s)
  )
    return undefined;
  return null;
}

export interface TailOptions {
  /** undefined: the event carries no `success` (organization_create, some updates). */
  readonly success: boolean | undefined;
  readonly ip?: string;
}

/** The fields that close a DI event before its id and timestamp. */
export function tail(ctx: RenderContext, o: TailOptions): Body {
  const out: Body = { event_type: ctx.entry.type };
  const provider = providerValue(ctx);
  if (provider !== undefined) out.provider = provider;
  out.service = ctx.entry.service;
  if (o.success !== undefined) out.success = o.success;
  out.organization = ORG_HOLE;
  out['@version'] = '1';
  if (o.ip !== undefined) out.client_ip = o.ip;
  return out;
}

/** A fresh id of a referenced object (not the event's). */
export const oid = (ctx: RenderContext): string => objectId(ctx.r);

/** The verb at the end of a type name (`user_create` → create). */
export const verbOf = (type: string): string => type.slice(type.lastIndexOf('_') + 1);
