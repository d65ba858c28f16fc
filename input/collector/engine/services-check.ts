// The requests of the services check (services.ts): which services `all` misses, for a batch of orgs at once.
// - The names the API accepts: its 400 answer to an unknown name lists them (one request per check, not per org).
// - Per batch, two `/events/distinct` on field `service`: by every accepted name, and through `all`. `all` returns a
//   subset of what the names return, org by org, so when the two agree for every service they agree for every org:
//   nothing is missed (the usual answer: 2 requests per batch).
// - When they differ for some services (the candidates), two `/events/distinct` on field `organization` (by name,
//   through `all`) give each org's difference: none, nothing missed; with one candidate, that one is missed. An org
//   left ambiguous (several candidates, or events whose `organization` is not its id) gets the two per-service
//   requests of its own.
// - A batch refused for one of its orgs (402, 403) is checked in halves; a refused org is left unchecked (its
//   stream reports the refusal).
import { DiFatalError } from '../../di/errors.js';
import type { DiClient, DiQuery, DistinctBucket, Logger } from '../../types.js';

/**
 * The accepted names as of the OpenAPI spec: used only when the API's 400 answer cannot be read. The simulator keeps
 * its own list (input/simulator/query.ts) on purpose: the collector never imports the API double it is tested with.
 */
export const KNOWN_SERVICES = [
  'alerts',
  'directory',
  'ldap',
  'mdm',
  'notifications',
  'object_storage',
  'password_manager',
  'password_vault',
  'radius',
  'reports',
  'saas_app_management',
  'software',
  'sso',
  'systems',
  'access_management',
  'asset_management',
  'workflows',
  'genai',
  'aigw',
  'ai_admin',
  'generic_di',
] as const;

/** A name no API accepts: its 400 lists the valid ones. */
const PROBE_SERVICE = 'fluent_bit_jumpcloud_unknown_service';

/** The service names in the API's 400 answer to an unknown service ("… valid services are: a, b, c"). */
export function parseServiceList(message: string): string[] {
  // A bracketed list if there is one, else what follows the last colon.
  const bracketed = /\[([^\]]*)\]\s*$/.exec(message.trim())?.[1];
  const colon = message.lastIndexOf(':');
  if (bracketed === undefined && colon < 0) return [];
  const tail = bracketed ?? message.slice(colon + 1);
  const names = tail.split(/[\s,;[\]"'`]+/).filter((n) => /^[a-z][a-z0-9_]*$/.test(n) && n !== 'all');
  return [...new Set(names)];
}

/** A window of the check: RFC 3339 bounds. */
export interface CheckWindow {
  readonly start: string;
  readonly end: string;
}

/** What one org's check found: the services `all` misses (with their counts), and those it does not. */
export interface OrgVerdict {
  /** Missed services, each with the events of the org that `all` did not return. */
  readonly missed: readonly { readonly service: string; readonly missing: number }[];
  /** Services with events, returned fully through `all` (for the org's batch when checked as one). */
  readonly viaAll: readonly string[];
}

/** Per org of a batch: its verdict, or why it could not be checked (the API refused it). */
export type BatchVerdicts = Map<string, OrgVerdict | { readonly refused: Error }>;

/**
 * The names the API accepts, from its 400 answer to an unknown one (the OpenAPI list when unreadable). Asked with
 * each of `orgs` in turn (at most 3) until one is not refused: an org the API refuses answers 402/403 first.
 */
export async function acceptedServices(
  di: DiClient,
  window: CheckWindow,
  orgs: readonly string[],
  logger: Logger,
  signal: AbortSignal,
): Promise<{ names: string[]; fromApi: boolean }> {
  for (const org of orgs.slice(0, 3)) {
    try {
      await di.count({ ...window, ...orgQuery([org]), service: PROBE_SERVICE }, signal);
      logger.warn({ probe: PROBE_SERVICE }, 'the API accepted an unknown service name: using the known list');
      break;
    } catch (err) {
      const e = err as { status?: number; apiMessage?: string };
      if (signal.aborted) throw err;
      if (e.status === 400 && e.apiMessage) {
        const names = parseServiceList(e.apiMessage);
        // Taken as the list only when it names services we know (not some other sentence).
        if (names.filter((n) => (KNOWN_SERVICES as readonly string[]).includes(n)).length >= 2)
          return { names, fromApi: true };
      }
      logger.debug({ error: (err as Error).message }, 'the API did not list its services');
      if (!refused(err)) break;
    }
  }
  logger.debug({}, 'using the known list of services');
  return { names: [...KNOWN_SERVICES], fromApi: false };
}

/** The x-org-id part of a query of `orgs` ('' is no header). */
function orgQuery(orgs: readonly string[]): Pick<DiQuery, 'orgIds'> {
  const ids = orgs.filter((o) => o !== '');
  return ids.length > 0 ? { orgIds: ids } : {};
}

function refused(err: unknown): boolean {
  return err instanceof DiFatalError && (err.status === 402 || err.status === 403);
}

/** Checks the orgs of one batch over `window` (one window for all); halves on a refusal. */
export async function checkBatch(
  di: DiClient,
  orgs: readonly string[],
  window: CheckWindow,
  names: readonly string[],
  signal: AbortSignal,
): Promise<BatchVerdicts> {
  const out: BatchVerdicts = new Map();
  const pending = [orgs];
  while (pending.length > 0) {
    const group = pending.shift()!;
    try {
      for (const [org, v] of await checkGroup(di, group, window, names, signal)) out.set(org, v);
    } catch (err) {
      if (signal.aborted || !refused(err)) throw err;
      if (group.length === 1) out.set(group[0]!, { refused: err as Error });
      else pending.unshift(group.slice(0, Math.ceil(group.length / 2)), group.slice(Math.ceil(group.length / 2)));
    }
  }
  return out;
}

/** One group's check: 2 requests when nothing is missed, 4 when something is, plus 2 per org left ambiguous. */
async function checkGroup(
  di: DiClient,
  orgs: readonly string[],
  window: CheckWindow,
  names: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, OrgVerdict>> {
  const q = { ...window, ...orgQuery(orgs) };
  const byNameQ = { ...q, service: names[0]!, alsoServices: names.slice(1) };
  const allQ = { ...q, service: 'all' };
  const [byName, throughAll] = await distinctPair(di, byNameQ, allQ, 'service', signal);
  const seen = new Map(throughAll.map((b) => [b.key, b.count]));
  const withEvents = byName.filter((b) => b.count > 0);
  const candidates = withEvents.filter((b) => (seen.get(b.key) ?? 0) < b.count).map((b) => b.key);
  const viaAll = withEvents.filter((b) => !candidates.includes(b.key)).map((b) => b.key);
  const out = new Map<string, OrgVerdict>();
  if (candidates.length === 0) {
    for (const org of orgs) out.set(org, { missed: [], viaAll });
    return out;
  }
  if (orgs.length === 1) {
    const missed = candidates.map((service) => ({
      service,
      missing: byName.find((b) => b.key === service)!.count - (seen.get(service) ?? 0),
    }));
    out.set(orgs[0]!, { missed, viaAll });
    return out;
  }
  const [orgByName, orgAll] = await distinctPair(di, byNameQ, allQ, 'organization', signal);
  const perOrg = (buckets: readonly DistinctBucket[]): Map<string, number> =>
    new Map(buckets.map((b) => [b.key.toLowerCase(), b.count]));
  const named = perOrg(orgByName),
    all = perOrg(orgAll);
  // Events whose `organization` is none of the orgs: an org not found by its id may own them (ambiguous).
  const total = withEvents.reduce((n, b) => n + b.count, 0);
  const attributed = orgs.reduce((n, o) => n + (named.get(o.toLowerCase()) ?? 0), 0);
  const ambiguous: string[] = [];
  for (const org of orgs) {
    const key = org.toLowerCase();
    const diff = (named.get(key) ?? 0) - (all.get(key) ?? 0);
    if (!named.has(key) && attributed < total) ambiguous.push(org);
    else if (diff <= 0) out.set(org, { missed: [], viaAll: [...viaAll, ...candidates] });
    else if (candidates.length === 1) {
      out.set(org, { missed: [{ service: candidates[0]!, missing: diff }], viaAll });
    } else ambiguous.push(org);
  }
  for (const org of ambiguous) for (const [o, v] of await checkGroup(di, [org], window, names, signal)) out.set(o, v);
  return out;
}

async function distinctPair(
  di: DiClient,
  a: DiQuery,
  b: DiQuery,
  field: string,
  signal: AbortSignal,
): Promise<[DistinctBucket[], DistinctBucket[]]> {
  const [x, y] = await Promise.all([di.distinct!(a, field, signal), di.distinct!(b, field, signal)]);
  return [x, y];
}
