// The "Collection" options: where state lives, the time windows (since, lag, overlap, interval) and their
// cross-checks, backfill slices, the dedup bound and one-pass mode.
import { statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { DurationError, SINCE_HINT, formatDuration, parseSince } from '../duration.js';
import type { CollectorConfig } from '../types.js';
import type { Settings } from './sources.js';
import { ConfigError, errCode, invalid } from './spec.js';
import { toBool, toDuration, toInt, toText } from './values.js';

/** DI keeps events 90 days (15 on the lowest plan); --since further back is clamped. */
const RETENTION_MS = 90 * 86_400_000;

export type CollectionSettings = Pick<
  CollectorConfig,
  | 'stateDir'
  | 'sinceMs'
  | 'sinceGiven'
  | 'lagMs'
  | 'overlapMs'
  | 'intervalMs'
  | 'once'
  | 'backfillSlices'
  | 'maxSeenIds'
>;

export function collectionSettings(s: Settings): CollectionSettings {
  const lagMs = toDuration(s.opt('lag'), s.req('lag'));
  const overlapMs = toDuration(s.opt('overlap'), s.req('overlap'));
  const intervalMs = toDuration(s.opt('interval'), s.req('interval'));
  if (intervalMs <= 0) throw invalid(s.opt('interval'), s.req('interval').source, 'must be more than 0');
  const sinceMs = since(s);
  // Given (not the default): a stored stream start that differs gets a note that it is ignored.
  const sinceGiven = s.req('since').source.kind !== 'default';
  if (overlapMs > 0 && overlapMs < lagMs) {
    s.warnings.push(
      `--overlap ${formatDuration(overlapMs)} is shorter than --lag ${formatDuration(lagMs)}: events indexed later ` +
        `than the lag may be missed`,
    );
  }
  return {
    stateDir: stateDir(s),
    sinceMs,
    ...(sinceGiven ? { sinceGiven } : {}),
    lagMs,
    overlapMs,
    intervalMs,
    once: toBool(s.opt('once'), s.req('once')),
    backfillSlices: toInt(s.opt('slices'), s.req('slices')),
    maxSeenIds: toInt(s.opt('max-seen-ids'), s.req('max-seen-ids')),
  };
}

/** In the past; clamped to the API's retention, with a warning. */
function since(s: Settings): number {
  const sinceRaw = s.req('since');
  let sinceMs: number;
  try {
    sinceMs = parseSince(toText(s.opt('since'), sinceRaw), s.now).ms;
  } catch (err) {
    if (err instanceof DurationError) throw invalid(s.opt('since'), sinceRaw.source, err.message);
    throw err;
  }
  if (sinceMs >= s.now) {
    throw invalid(
      s.opt('since'),
      sinceRaw.source,
      `${new Date(sinceMs).toISOString()} is not in the past: expected ${SINCE_HINT}`,
    );
  }
  if (s.now - sinceMs > RETENTION_MS) {
    const clamped = s.now - RETENTION_MS;
    s.warnings.push(
      `--since ${new Date(sinceMs).toISOString()} is older than the 90-day retention of Directory Insights: ` +
        `starting at ${new Date(clamped).toISOString()} instead`,
    );
    sinceMs = clamped;
  }
  return sinceMs;
}

/** A directory, or nothing yet (created at start). */
function stateDir(s: Settings): string {
  const raw = s.req('state-dir');
  const dir = resolvePath(s.cwd, toText(s.opt('state-dir'), raw).trim());
  try {
    if (!statSync(dir).isDirectory())
      throw invalid(s.opt('state-dir'), raw.source, `${dir} exists and is not a directory`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw invalid(s.opt('state-dir'), raw.source, `cannot use ${dir}: ${errCode(err)}`);
  }
  return dir;
}
