// Files of the state directory: making sure it can be written at start-up, and replacing a file so that a crash at
// any instant leaves either the old or the new one, never a torn one (temp file + fsync + rename + fsync of the
// directory).
import { promises as fsp, closeSync, existsSync, fsync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { JumpCloudError } from '../../errors.js';

/** The state directory cannot be created or written: a configuration to fix (the CLI exits 2). */
export class StateDirError extends JumpCloudError {
  static override readonly code: string = 'STATE_DIR_UNWRITABLE';
  override readonly fatal = true;
  constructor(
    readonly dir: string,
    message: string,
  ) {
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
    const grant = existsSync(dir)
      ? `sudo chown -R ${user} ${stateDir} && sudo chmod -R u+rwX ${stateDir}`
      : `sudo install -d -o ${user} ${dir}`;
    const fix =
      e.code === 'EROFS'
        ? `it is on a read-only file system: choose a writable directory with --state-dir (env JUMPCLOUD_STATE_DIR)`
        : `give the user running the collector (${user}) write access to it (for example \`${grant}\`), or choose ` +
          'another directory with --state-dir (env JUMPCLOUD_STATE_DIR)';
    throw new StateDirError(
      dir,
      `cannot write the state directory ${dir} ` +
        `(${e.code ?? e.message}${e.path && !e.path.startsWith(dir) ? ` on ${e.path}` : ''}): ${fix}`,
    );
  }
}

function runningUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'this user');
  }
}

export async function fsyncDir(dir: string): Promise<void> {
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
export async function writeFileAtomicWith(
  file: string,
  produce: (write: (bytes: Uint8Array) => void) => void,
): Promise<void> {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    produce((bytes) => {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    });
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}
