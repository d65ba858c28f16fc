// Per-stream state: where collection stands (the checkpoint, a backfill's slices), as a versioned JSON file written
// atomically (files.ts), its paths in the state directory, and the errors that name how to recover a broken one.
import { promises as fsp, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './files.js';
import { JumpCloudError } from '../../errors.js';
import { isoMillis, parseIsoMillis } from './timestamp.js';

const STATE_VERSION = 1;

/** One time slice of a backfill. `cursor`: every event of the slice before this instant has been acked. */
export interface SliceState {
  readonly start: number;
  readonly end: number;
  readonly cursor: number;
  readonly done: boolean;
}

export interface BackfillState {
  /** The backfill covers [checkpoint − overlap, end); the checkpoint moves to `end` when every slice is done. */
  readonly end: number;
  readonly slices: readonly SliceState[];
}

/** In memory: instants as epoch ms. On disk: RFC 3339 strings with milliseconds. */
export interface StreamState {
  readonly org: string;
  readonly service: string;
  /** Where collection began (the first start's --since): windows never reach before it. */
  readonly since: number;
  /** Every event before this instant has been acked by Fluent Bit (late ones are recovered by the overlap). */
  readonly checkpoint: number;
  readonly backfill?: BackfillState;
}

export interface StreamKey {
  readonly org: string;
  readonly service: string;
}

/** How logs name a stream: `service`, or `org/service` with an org id. */
export function streamName(key: StreamKey): string {
  return key.org === '' ? key.service : `${key.org}/${key.service}`;
}

export class StateError extends JumpCloudError {
  static override readonly code: string = 'STATE_INVALID';
  override readonly fatal = true;
  constructor(
    readonly file: string,
    problem: string,
    recovery: string,
  ) {
    super(`${problem}. ${recovery}`);
  }
}

function safeName(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)
    ? name
    : encodeURIComponent(name).replace(/^\./, '%2E').replace(/\*/g, '%2A');
}

export interface StreamPaths {
  readonly dir: string;
  readonly state: string;
  readonly backup: string;
  readonly journal: string;
}

export function streamPaths(stateDir: string, key: StreamKey): StreamPaths {
  const dir = path.join(stateDir, key.org === '' ? '_default' : safeName(key.org));
  const base = path.join(dir, safeName(key.service));
  return { dir, state: `${base}.json`, backup: `${base}.json.bak`, journal: `${base}.ids` };
}

function recovery(p: StreamPaths): string {
  const bak = existsSync(p.backup)
    ? `restore the previous state with \`cp ${p.backup} ${p.state}\` (kept from the write before the last one; ` +
      `events since then are deduplicated by the id journal when they are still within the overlap, otherwise ` +
      `forwarded again), or `
    : '';
  return (
    `To recover, ${bak}delete ${p.state} and ${p.journal} to restart this stream from --since (events after ` +
    `that instant are forwarded again)`
  );
}

function fail(p: StreamPaths, file: string, problem: string): never {
  throw new StateError(file, problem, recovery(p));
}

function instant(p: StreamPaths, v: unknown, field: string): number {
  const ms = typeof v === 'string' ? parseIsoMillis(v) : NaN;
  if (Number.isNaN(ms))
    fail(p, p.state, `corrupt state file ${p.state}: "${field}" is ${JSON.stringify(v)}, not an RFC 3339 instant`);
  return ms;
}

function decode(p: StreamPaths, key: StreamKey, text: string): StreamState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(p, p.state, `corrupt state file ${p.state}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(p, p.state, `corrupt state file ${p.state}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.version !== STATE_VERSION)
    fail(
      p,
      p.state,
      `state file ${p.state} has version ${JSON.stringify(o.version)}; this collector reads version ${STATE_VERSION}`,
    );
  if (o.org !== key.org || o.service !== key.service) {
    fail(
      p,
      p.state,
      `state file ${p.state} belongs to org ${JSON.stringify(o.org)} service ${JSON.stringify(o.service)}, not org ` +
        `${JSON.stringify(key.org)} service ${JSON.stringify(key.service)}`,
    );
  }
  const checkpoint = instant(p, o.checkpoint, 'checkpoint');
  const since = o.since === undefined ? checkpoint : instant(p, o.since, 'since');
  let backfill: BackfillState | undefined;
  if (o.backfill !== undefined) {
    const b = o.backfill as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || !Array.isArray(b.slices) || b.slices.length === 0)
      fail(p, p.state, `corrupt state file ${p.state}: "backfill" must have a non-empty "slices" array`);
    const end = instant(p, b.end, 'backfill.end');
    const slices = (b.slices as unknown[]).map((s, i): SliceState => {
      const so = s as Record<string, unknown>;
      if (typeof so !== 'object' || so === null || typeof so.done !== 'boolean')
        fail(p, p.state, `corrupt state file ${p.state}: backfill slice ${i} lacks a boolean "done"`);
      const slice = {
        start: instant(p, so.start, `backfill.slices[${i}].start`),
        end: instant(p, so.end, `backfill.slices[${i}].end`),
        cursor: instant(p, so.cursorTime, `backfill.slices[${i}].cursorTime`),
        done: so.done,
      };
      if (!(slice.start <= slice.cursor && slice.cursor <= slice.end && slice.end <= end)) {
        fail(
          p,
          p.state,
          `corrupt state file ${p.state}: backfill slice ${i} does not satisfy start ≤ cursorTime ≤ end ≤ backfill.end`,
        );
      }
      return slice;
    });
    backfill = { end, slices };
  }
  return { org: key.org, service: key.service, since, checkpoint, ...(backfill ? { backfill } : {}) };
}

function encodeState(s: StreamState): string {
  const o: Record<string, unknown> = {
    version: STATE_VERSION,
    org: s.org,
    service: s.service,
    since: isoMillis(s.since),
    checkpoint: isoMillis(s.checkpoint),
  };
  if (s.backfill) {
    o.backfill = {
      end: isoMillis(s.backfill.end),
      slices: s.backfill.slices.map((x) => ({
        start: isoMillis(x.start),
        end: isoMillis(x.end),
        done: x.done,
        cursorTime: isoMillis(x.cursor),
      })),
    };
  }
  return JSON.stringify(o, null, 2) + '\n';
}

/**
 * Reads a stream's state. `undefined`: a fresh stream (no state, no journal). Throws StateError when the file
 * is corrupt, or missing while the stream's id journal exists (the checkpoint was lost: never restart silently).
 */
export async function loadState(stateDir: string, key: StreamKey): Promise<StreamState | undefined> {
  const p = streamPaths(stateDir, key);
  let text: string;
  try {
    text = await fsp.readFile(p.state, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      fail(p, p.state, `cannot read state file ${p.state}: ${(err as Error).message}`);
    }
    // An empty journal without a state file is a first start stopped (kill -9) between opening the journal and
    // the first state write: nothing was forwarded yet, so it is a fresh stream, not a lost checkpoint.
    if (existsSync(p.journal) && statSync(p.journal).size > 0) {
      fail(
        p,
        p.state,
        `state file ${p.state} is missing but the stream's id journal ${p.journal} exists, so its checkpoint was lost`,
      );
    }
    return undefined;
  }
  return decode(p, key, text);
}

/**
 * Writes one stream's state. Writes are serialized and coalesced (only the newest pending state is written),
 * and the file being replaced is kept as `.bak` (a hard link, so no instant exists without a state file).
 */
export class StateWriter {
  readonly paths: StreamPaths;
  private pending: StreamState | undefined;
  private running: Promise<void> | undefined;

  constructor(stateDir: string, key: StreamKey) {
    this.paths = streamPaths(stateDir, key);
    mkdirSync(this.paths.dir, { recursive: true });
  }

  /** Resolves once `s` (or a newer state) is durable. */
  write(s: StreamState): Promise<void> {
    this.pending = s;
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // A write is under way: the drain loop picks up `pending` after it.
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const s = this.pending;
      this.pending = undefined;
      await this.writeNow(s);
    }
  }

  private async writeNow(s: StreamState): Promise<void> {
    const { state, backup } = this.paths;
    const tmp = `${state}.tmp`;
    const h = await fsp.open(tmp, 'w');
    try {
      await h.writeFile(encodeState(s));
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rm(backup, { force: true });
    try {
      await fsp.link(state, backup);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fsp.rename(tmp, state);
    await fsyncDir(this.paths.dir);
  }
}
