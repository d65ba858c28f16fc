// The services check's file per org (`<org>/services-coverage.json`, engine/services.ts): which services `all` misses,
// from when each is named in `all`'s query (its handover), and how far the checks have looked.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomicWith } from './files.js';
import { StateError, streamPaths } from './state.js';
import { isoMillis, parseIsoMillis } from './timestamp.js';

const COVERAGE_FILE = 'services-coverage.json';

export interface MissedService {
  readonly service: string;
  readonly found: number;
  /** Catch-up stream start (epoch ms). */
  readonly since: number;
  /** Handover instant (epoch ms). */
  readonly handover: number;
  retired: boolean;
  /** Seen fully through `all` at the last check (stays in `all`'s query all the same). */
  viaAll: boolean;
}

/** What the file holds for one org. */
export interface CoverageFile {
  readonly org: string;
  /** End of the last check's window (epoch ms); undefined before the first check. */
  checkedUntil?: number;
  readonly missed: Map<string, MissedService>;
}

function coveragePath(stateDir: string, org: string): string {
  return path.join(streamPaths(stateDir, { org, service: 'all' }).dir, COVERAGE_FILE);
}

type StoredMissed = {
  service: string;
  found: string;
  since: string;
  handover: string;
  retired: boolean;
  viaAll?: boolean;
};

/** The org's file, or an empty one when there is none. Throws StateError (naming the recovery) when it is corrupt. */
export function loadCoverage(stateDir: string, org: string): CoverageFile {
  const c: CoverageFile = { org, missed: new Map() };
  let text: string;
  try {
    text = readFileSync(coveragePath(stateDir, org), 'utf8');
  } catch {
    return c;
  }
  try {
    const data = JSON.parse(text) as { checkedUntil?: string; missedByAll?: StoredMissed[] };
    if (data.checkedUntil) c.checkedUntil = parseIsoMillis(data.checkedUntil);
    if (c.checkedUntil !== undefined && !Number.isFinite(c.checkedUntil))
      throw new Error('checkedUntil is not an RFC 3339 time');
    for (const m of data.missedByAll ?? []) {
      const entry: MissedService = {
        service: m.service,
        found: parseIsoMillis(m.found),
        since: parseIsoMillis(m.since),
        handover: parseIsoMillis(m.handover),
        retired: m.retired,
        viaAll: m.viaAll ?? false,
      };
      const times = [entry.found, entry.since, entry.handover];
      if (typeof m.service !== 'string' || typeof m.retired !== 'boolean' || !times.every(Number.isFinite)) {
        throw new Error(
          'an entry of missedByAll is not {service, found, since, handover, retired} with RFC 3339 times',
        );
      }
      c.missed.set(m.service, entry);
    }
  } catch (err) {
    const file = coveragePath(stateDir, org);
    throw new StateError(
      file,
      `${file} (which services "all" misses) is corrupt: ${(err as Error).message}`,
      'To recover, delete it: the next check learns the missed services again and collects them from the "all" ' +
        'stream\'s --since (their events that came through the "all" query may then be forwarded again)',
    );
  }
  return c;
}

/** Writes the org's file atomically (before any query names a newly missed service: a restart resumes from it). */
export async function saveCoverage(stateDir: string, c: CoverageFile): Promise<void> {
  const file = coveragePath(stateDir, c.org);
  const data = {
    version: 1,
    org: c.org,
    checkedUntil: c.checkedUntil !== undefined ? isoMillis(c.checkedUntil) : undefined,
    missedByAll: [...c.missed.values()].map((m) => ({
      service: m.service,
      found: isoMillis(m.found),
      since: isoMillis(m.since),
      handover: isoMillis(m.handover),
      retired: m.retired,
      viaAll: m.viaAll,
    })),
  };
  await mkdir(path.dirname(file), { recursive: true });
  const text = Buffer.from(`${JSON.stringify(data, null, 2)}\n`);
  await writeFileAtomicWith(file, (write) => write(text));
}
