// How events are stamped: the org's id as events carry it, and ids and timestamps spelled the way each
// service's real events spell them (catalog.ts: serviceFormat).
import { formatInstant, type Instant } from '../di/rfc3339.js';
import { hash32, hashString, hex, type Rng, upperUuid } from './random.js';

/** How a service's events spell ids and timestamps (the facts of real data where known; catalog.ts: serviceFormat). */
export interface ServiceFormat {
  /** 'object-id': 24 hex digits; 'uuid': upper-case UUID (RADIUS). */
  readonly id: 'object-id' | 'uuid';
  /**
   * 'seconds': whole seconds (RADIUS); 'millis': 3 digits (directory); 'nanos': up to 9 digits, trailing zeros cut
   * as Go writes them (SSO: `…10.34334445Z`); 'mixed': 0, 3, 6 or 9 digits, for services whose real spelling is not
   * known (the collector must take any).
   */
  readonly time: 'seconds' | 'millis' | 'nanos' | 'mixed';
}

/** The `organization` of an org's events: its id when it is a 24-hex ObjectId, else one derived from it. */
export function organizationId(orgId: string, seed: number): string {
  if (/^[0-9a-f]{24}$/.test(orgId)) return orgId;
  const h = hashString(orgId);
  return hex(hash32(seed, h), 8) + hex(hashString(`org:${orgId}`), 8) + hex(hash32(h, 7), 8);
}

/** A provider's id as its events carry it (`provider`, `initiated_by.provider`). */
export const providerObjectId = (providerId: string, seed: number): string =>
  organizationId(`provider:${providerId}`, seed);

export interface Stamp {
  readonly ms: number;
  readonly subNs: number;
  readonly timestamp: string;
}

/**
 * The instant of an event at `ms` in a service's spelling: RADIUS whole seconds, directory milliseconds, SSO
 * nanoseconds (trailing zeros cut), other services 0, 3, 6 or 9 digits. Draws from `r` for the sub-millisecond part.
 */
export function stampTime(time: ServiceFormat['time'], ms: number, r: Rng): Stamp {
  let subNs = Math.floor(r() * 1_000_000);
  const p = r();
  if (time === 'seconds' || (time === 'mixed' && p < 0.1)) {
    const whole = ms - (((ms % 1000) + 1000) % 1000);
    return { ms: whole, subNs: 0, timestamp: formatInstant({ ms: whole, subNs: 0 }, 0) };
  }
  if (time === 'millis' || (time === 'mixed' && p < 0.6) || (time === 'nanos' && p < 0.05)) {
    const t = { ms, subNs: 0, timestamp: '' };
    t.timestamp = time === 'nanos' ? trimmed(t) : formatInstant(t, 3);
    return t;
  }
  const six = time === 'mixed' && p < 0.8;
  if (six) subNs -= subNs % 1000;
  const t = { ms, subNs, timestamp: '' };
  t.timestamp = time === 'nanos' ? trimmed(t) : formatInstant(t, six ? 6 : 9);
  return t;
}

/** The instant `ms` exactly, in a service's spelling (scripted events: no random sub-millisecond part). */
export function stampExact(time: ServiceFormat['time'], ms: number): Stamp {
  if (time === 'seconds') {
    const whole = ms - (((ms % 1000) + 1000) % 1000);
    return { ms: whole, subNs: 0, timestamp: formatInstant({ ms: whole, subNs: 0 }, 0) };
  }
  const t = { ms, subNs: 0 };
  return { ...t, timestamp: time === 'nanos' ? trimmed(t) : formatInstant(t, 3) };
}

/** RFC 3339 with nanoseconds and the trailing zeros cut, as Go's RFC3339Nano writes it. */
function trimmed(t: Instant): string {
  return formatInstant(t, 9).replace(/\.?0+Z$/, 'Z');
}

/** An event id: an upper-case UUID (RADIUS), or an ObjectId of the event's second, a per-stream part and a counter. */
export function eventId(format: ServiceFormat['id'], ms: number, machine: string, counter: number, r: Rng): string {
  if (format === 'uuid') return upperUuid(r);
  return hex(Math.floor(ms / 1000), 8) + machine + hex(counter, 6);
}
