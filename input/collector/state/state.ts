// Per-stream state: where collection stands, written so that a crash at any instant leaves either the old or
// the new file, never a torn one (temp file + fsync + rename + fsync of the directory).
import { promises as fsp, closeSync, existsSync, fsync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { CodedError } from '../../errors.js';
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

export class StateError extends Error implements CodedError {
  override readonly name = 'StateError';
  readonly code = 'STATE_INVALID';
  readonly fatal = true;
  constructor(readonly file: string, problem: string, recovery: string) {
    super(`${problem}. ${recovery}`);
  }
}

/** The state directory cannot be created or written: a configuration to fix (the CLI exits 2). */
export class StateDirError extends Error implements CodedError {
  override readonly name = 'StateDirError';
  readonly code = 'STATE_DIR_UNWRITABLE';
  readonly fatal = true;
  constructor(readonly dir: string, message: string) {
    super(message);
  }
}

/**
 * Creates the state directory and the streams' directories in it if needed and proves each writable (a probe file
 * created and removed), so that an unusable directory (e.g. left owned by root by a first run as root) is one clear
 * error at start-up instead of every stream failing on its first write.
 */
export function ensureStateDir(dir: string, streamDirs: readonly string[] = []): void {
  for (const d of [dir, ...new Set(streamDirs)]) ensureWritableDir(d, dir);
}

function ensureWritableDir(dir: string, stateDir: string): void {
  const probe = path.join(dir, `.write-test-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const user = runningUser();
    const fix = e.code === 'EROFS'
      ? `it is on a read-only file system: choose a writable directory with --state-dir (env JUMPCLOUD_STATE_DIR)`
      : `give the user running the collector (${user}) write access to it (for example \`${existsSync(dir) ? `sudo chown -R ${user} ${stateDir} && sudo chmod -R u+rwX ${stateDir}` : `sudo install -d -o ${user} ${dir}`}\`), or choose another directory with --state-dir (env JUMPCLOUD_STATE_DIR)`;
    throw new StateDirError(dir, `cannot write the state directory ${dir} (${e.code ?? e.message}${e.path && !e.path.startsWith(dir) ? ` on ${e.path}` : ''}): ${fix}`);
  }
}

function runningUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'this user');
  }
}

function safeName(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? name : encodeURIComponent(name).replace(/^\./, '%2E').replace(/\*/g, '%2A');
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
    ? `restore the previous state with \`cp ${p.backup} ${p.state}\` (kept from the write before the last one; events since then are deduplicated by the id journal when they are still within the overlap, otherwise forwarded again), or `
    : '';
  return `To recover, ${bak}delete ${p.state} and ${p.journal} to restart this stream from --since (events after that instant are forwarded again)`;
}

function fail(p: StreamPaths, file: string, problem: string): never {
  throw new StateError(file, problem, recovery(p));
}

function instant(p: StreamPaths, v: unknown, field: string): number {
  const ms = typeof v === 'string' ? parseIsoMillis(v) : NaN;
  if (Number.isNaN(ms)) fail(p, p.state, `corrupt state file ${p.state}: "${field}" is ${JSON.stringify(v)}, not an RFC 3339 instant`);
  return ms;
}

function decode(p: StreamPaths, key: StreamKey, text: string): StreamState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(p, p.state, `corrupt state file ${p.state}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(p, p.state, `corrupt state file ${p.state}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.version !== STATE_VERSION) fail(p, p.state, `state file ${p.state} has version ${JSON.stringify(o.version)}; this collector reads version ${STATE_VERSION}`);
  if (o.org !== key.org || o.service !== key.service) {
    fail(p, p.state, `state file ${p.state} belongs to org ${JSON.stringify(o.org)} service ${JSON.stringify(o.service)}, not org ${JSON.stringify(key.org)} service ${JSON.stringify(key.service)}`);
  }
  const checkpoint = instant(p, o.checkpoint, 'checkpoint');
  const since = o.since === undefined ? checkpoint : instant(p, o.since, 'since');
  let backfill: BackfillState | undefined;
  if (o.backfill !== undefined) {
    const b = o.backfill as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || !Array.isArray(b.slices) || b.slices.length === 0) fail(p, p.state, `corrupt state file ${p.state}: "backfill" must have a non-empty "slices" array`);
    const end = instant(p, b.end, 'backfill.end');
    const slices = (b.slices as unknown[]).map((s, i): SliceState => {
      const so = s as Record<string, unknown>;
      if (typeof so !== 'object' || so === null || typeof so.done !== 'boolean') fail(p, p.state, `corrupt state file ${p.state}: backfill slice ${i} lacks a boolean "done"`);
      const slice = {
        start: instant(p, so.start, `backfill.slices[${i}].start`),
        end: instant(p, so.end, `backfill.slices[${i}].end`),
        cursor: instant(p, so.cursorTime, `backfill.slices[${i}].cursorTime`),
        done: so.done,
      };
      if (!(slice.start <= slice.cursor && slice.cursor <= slice.end && slice.end <= end)) {
        fail(p, p.state, `corrupt state file ${p.state}: backfill slice ${i} does not satisfy start ≤ cursorTime ≤ end ≤ backfill.end`);
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
      slices: s.backfill.slices.map((x) => ({ start: isoMillis(x.start), end: isoMillis(x.end), done: x.done, cursorTime: isoMillis(x.cursor) })),
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
      fail(p, p.state, `state file ${p.state} is missing but the stream's id journal ${p.journal} exists, so its checkpoint was lost`);
    }
    return undefined;
  }
  return decode(p, key, text);
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Atomically replaces `file` (temp + fsync + rename + fsync dir) with content produced synchronously in pieces,
 * each written as it comes: a big file (the id journal: ~40 bytes per id) needs no buffer of its own size.
 * `produce` must not keep the pieces.
 */
export async function writeFileAtomicWith(file: string, produce: (write: (bytes: Uint8Array) => void) => void): Promise<void> {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    produce((bytes) => {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    });
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
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
