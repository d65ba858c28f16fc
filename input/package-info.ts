// Where the package lives (for --version and the shipped fluent-bit.conf), whether run from input/ with tsx or
// from dist/input/ after the build.
import { existsSync, readFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellWord } from './shell.js';

export interface PackageInfo {
  readonly root: string;
  readonly name: string;
  readonly version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fluent-bit-jumpcloud') {
        cached = { root: dir, name: pkg.name, version: pkg.version ?? '0.0.0' };
        return cached;
      }
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cannot find the package.json of fluent-bit-jumpcloud above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * How to run this CLI again, as a user would type it: `fluent-bit-jumpcloud` when that is what was run and it is
 * on PATH (a global or linked install), otherwise `node <this install>/dist/input/cli.js` (a checkout, or a local
 * install whose bin directory is not on PATH), so that printed commands work as printed.
 */
export function selfCommand(
  argv1: string | undefined = process.argv[1],
  path: string | undefined = process.env.PATH,
): string {
  if (argv1 !== undefined && basename(argv1) === 'fluent-bit-jumpcloud') {
    const dirs = (path ?? '').split(delimiter).filter((d) => d !== '');
    if (dirs.some((d) => resolve(d) === dirname(resolve(argv1)))) return 'fluent-bit-jumpcloud';
  }
  const cli = join(packageInfo().root, 'dist', 'input', 'cli.js');
  return `node ${shellWord(cli)}`;
}
