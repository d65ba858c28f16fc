// One collector per state directory. Two collectors on the same checkpoints both fetch and both forward (every
// event twice) and overwrite each other's files, so the CLI holds an exclusive lock on --state-dir for its life.
//
// The lock is proper-lockfile's: an atomic mkdir of `<state-dir>/collector.lock` whose mtime the holder refreshes
// every UPDATE_MS; a lock not refreshed for STALE_MS is stale and taken over (it works on network file systems and
// needs no native addon, unlike flock(2), which Node has no binding for). Beside it, `collector.lock.holder` names the
// holder (PID, host, boot, PID namespace, start time) so that a second collector can say who holds it, and so that
// a lock left by a `kill -9` on this host does not wait out STALE_MS: when the holder ran on this host, in this boot
// and PID namespace, and its PID is gone (or is our own: a container's PID 1 restarted), the lock is taken over at
// once. A holder on another host (or in another PID namespace) cannot be checked, so only the mtime tells.
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { JumpCloudError } from '../../errors.js';

export const LOCK_NAME = 'collector.lock';
export const HOLDER_NAME = 'collector.lock.holder';
/** A lock whose mtime is older than this is stale (its holder stopped refreshing it). */
export const STALE_MS = 10_000;
/** How often the holder refreshes the lock's mtime. */
const UPDATE_MS = 2_000;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Linux boot id: a lock from before a reboot (power loss) is stale whatever its PID. */
  readonly bootId?: string;
  /** PID namespace (`pid:[…]`): PIDs can be compared only within one. */
  readonly pidNamespace?: string;
  readonly startedAt: string;
}

/** The state directory is held by another collector. */
export class StateLockedError extends JumpCloudError {
  static override readonly code: string = 'STATE_LOCKED';
  override readonly fatal = true;
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(lockedMessage(dir, holder));
  }
}

/** The lock could not be taken for another reason than a live holder (permissions, read-only file system). */
export class StateLockError extends JumpCloudError {
  static override readonly code: string = 'STATE_LOCK_FAILED';
  override readonly fatal = true;
}

export interface StateLock {
  readonly dir: string;
  /** Set when a stale lock was taken over: why it was stale, and who had held it. */
  readonly tookOver?: { readonly reason: string; readonly holder?: LockHolder };
  /** Releases the lock (idempotent). The holder file stays: it names the last holder. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Called when the lock was lost while held (its mtime changed under us, or it was removed): stop at once. */
  readonly onCompromised: (err: Error) => void;
  /** Testing: this process's identity (default: the real one). */
  readonly self?: LockHolder;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Undefined off Linux: then only the host and the PID are compared. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** This process as a lock holder. */
export function currentHolder(): LockHolder {
  const bootId = readProc('/proc/sys/kernel/random/boot_id');
  const ns = pidNamespace();
  return {
    pid: process.pid,
    host: hostname(),
    ...(bootId ? { bootId } : {}),
    ...(ns ? { pidNamespace: ns } : {}),
    // When this process started (not a time the engine waits for: it names the holder).
    startedAt: new Date(Math.round(performance.timeOrigin)).toISOString(),
  };
}

function readHolder(dir: string): LockHolder | undefined {
  try {
    const data = JSON.parse(readFileSync(join(dir, HOLDER_NAME), 'utf8')) as Partial<LockHolder>;
    if (typeof data.pid !== 'number' || typeof data.host !== 'string') return undefined;
    return { startedAt: '?', ...data } as LockHolder;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process killed -9 whose parent has not reaped it yet (a zombie) still answers signal 0, but holds nothing.
  return !isZombie(pid);
}

/**
 * Whether Linux's /proc says `pid` has exited and awaits its parent's wait() (state Z or X); false where /proc is not.
 */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** Why `holder` no longer holds the lock, when that can be known from this host; undefined when it may be alive. */
export function deadHolderReason(
  holder: LockHolder,
  self: LockHolder,
  alive: (pid: number) => boolean = pidAlive,
): string | undefined {
  if (holder.host !== self.host) return undefined;
  if (holder.bootId && self.bootId && holder.bootId !== self.bootId) return 'its holder ran before this host rebooted';
  if (holder.pidNamespace !== self.pidNamespace) return undefined;
  if (holder.pid === self.pid) return `its holder's PID ${holder.pid} is this process (a restarted container)`;
  if (!alive(holder.pid)) return `its holder, PID ${holder.pid}, is not running`;
  return undefined;
}

function lockedMessage(dir: string, holder: LockHolder | undefined): string {
  const lockPath = join(dir, LOCK_NAME);
  const who = holder
    ? `PID ${holder.pid} on host ${holder.host} (started ${holder.startedAt})`
    : 'another collector (being started: its details are not written yet)';
  return [
    `the state directory ${dir} is in use by ${who}: only one collector may use a state directory.`,
    `Stop the other collector, or give this one its own --state-dir (env JUMPCLOUD_STATE_DIR).`,
    `If that collector is gone (its host is down), the lock goes stale ${STALE_MS / 1000} s after its last refresh ` +
      `and the next start takes it over;`,
    `to take it over now, make sure nothing runs on ${holder?.host ?? 'that host'} with this directory and remove ` +
      `${lockPath}.`,
  ].join(' ');
}

/**
 * Takes the exclusive lock on `dir` (created if missing) or throws StateLockedError (held by a live collector)
 * or StateLockError. Returns at once in either case: a second collector never waits.
 */
export async function lockStateDir(dir: string, options: LockOptions): Promise<StateLock> {
  const self = options.self ?? currentHolder();
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StateLockError(`cannot create the state directory ${dir}: ${(err as Error).message}`);
  }
  const lockPath = join(dir, LOCK_NAME);
  const take = (): Promise<() => Promise<void>> =>
    lockfile.lock(dir, {
      lockfilePath: lockPath,
      realpath: false,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: 0,
      onCompromised: options.onCompromised,
    });
  let release: () => Promise<void>;
  let tookOver: StateLock['tookOver'];
  try {
    release = await take();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED')
      throw new StateLockError(`cannot lock the state directory ${dir}: ${(err as Error).message}`);
    const holder = readHolder(dir);
    const dead = holder ? deadHolderReason(holder, self) : undefined;
    if (!dead) throw new StateLockedError(dir, holder);
    // Left by a kill -9 or a power loss on this host: take it over now rather than after STALE_MS.
    try {
      rmdirSync(lockPath);
    } catch (rmErr) {
      if ((rmErr as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new StateLockError(`cannot remove the stale lock ${lockPath} (${dead}): ${(rmErr as Error).message}`);
    }
    tookOver = { reason: dead, holder: holder! };
    try {
      release = await take();
    } catch (again) {
      // Someone else took it over in between.
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw new StateLockedError(dir, readHolder(dir));
      throw new StateLockError(`cannot lock the state directory ${dir}: ${(again as Error).message}`);
    }
  }
  // Written after the lock is ours, atomically (a reader sees the old holder or the new one, never half a file).
  const tmp = join(dir, `${HOLDER_NAME}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(self)}\n`);
  renameSync(tmp, join(dir, HOLDER_NAME));
  let released = false;
  return {
    dir,
    ...(tookOver ? { tookOver } : {}),
    async release() {
      if (released) return;
      released = true;
      // Already gone when compromised; the lock dir may also have been removed by hand.
      if (existsSync(lockPath)) await release().catch(() => undefined);
    },
  };
}
