// npm run build:splunk (scripts/build-splunk.py): the add-on packaged as Splunk installs it, reproducibly. The
// same files give the same bytes; entries are sorted, under the app's directory, owned by 0:0 with no names, at
// one fixed time, directories 0755 and files 0644; a user's local/ settings and Python caches are left out; a
// savedsearches.conf ships when it is there; a version that differs from package.json stops the build.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON_DIR, ADDON_NAME } from './conf.js';
import { ROOT, addonCopy, buildPackage } from './tools.js';

const work = mkdtempSync(join(tmpdir(), 'splunk-package-'));
const copies: string[] = [];
afterAll(() => {
  for (const d of [work, ...copies]) rmSync(d, { recursive: true, force: true });
});

interface Entry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  type: string;
  size: number;
}

/** The entries of a .tgz, read from its ustar headers. */
function entries(tgz: string): Entry[] {
  const tar = gunzipSync(readFileSync(tgz));
  const out: Entry[] = [];
  const str = (b: Buffer): string => b.toString('utf8').replace(/\0.*$/s, '');
  const oct = (b: Buffer): number => parseInt(str(b).trim() || '0', 8);
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((x) => x === 0)) break;
    const prefix = str(h.subarray(345, 500));
    const size = oct(h.subarray(124, 136));
    out.push({
      name: (prefix ? `${prefix}/` : '') + str(h.subarray(0, 100)),
      mode: oct(h.subarray(100, 108)),
      uid: oct(h.subarray(108, 116)),
      gid: oct(h.subarray(116, 124)),
      size,
      mtime: oct(h.subarray(136, 148)),
      type: str(h.subarray(156, 157)) || '0',
      uname: str(h.subarray(265, 297)),
      gname: str(h.subarray(297, 329)),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The add-on's files and directories, relative to its parent (as the package names them). */
function tree(dir: string): string[] {
  const out = [ADDON_NAME];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      out.push(`${ADDON_NAME}/${relative(dir, p)}`);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('npm run build:splunk', () => {
  it('makes build/TA-jumpcloud-directory-insights-<version>.tgz, the same bytes every time', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const a = buildPackage(ADDON_DIR, join(work, 'a'));
    const b = buildPackage(ADDON_DIR, join(work, 'b'));
    expect(a.tgz.endsWith(`/${ADDON_NAME}-${version}.tgz`)).toBe(true);
    expect(readFileSync(a.tgz).equals(readFileSync(b.tgz))).toBe(true);
    console.log(a.stdout.trim());
    const list = entries(a.tgz);
    expect(list.map((e) => e.name.replace(/\/$/, ''))).toEqual(tree(ADDON_DIR));
    expect(list.map((e) => e.name)).toEqual([...list.map((e) => e.name)].sort());
    for (const e of list) {
      expect(e.name === ADDON_NAME || e.name.startsWith(`${ADDON_NAME}/`), e.name).toBe(true);
      expect([e.uid, e.gid, e.uname, e.gname, e.mtime], e.name).toEqual([0, 0, '', '', 315532800]);
      expect(e.mode, e.name).toBe(e.type === '5' ? 0o755 : 0o644);
      expect(['0', '5'], e.name).toContain(e.type);
    }
    // The gzip header names no file and no time.
    const gz = readFileSync(a.tgz);
    expect([gz[3], gz.readUInt32LE(4)]).toEqual([0, 0]);
  });

  it('ships savedsearches.conf when it is there; leaves out local/, local.meta and Python caches, and says so', () => {
    const app = addonCopy(true);
    copies.push(dirname(app));
    mkdirSync(join(app, 'local'));
    writeFileSync(join(app, 'local', 'props.conf'), '[jumpcloud:directory_insights]\nKV_MODE = none\n');
    writeFileSync(join(app, 'metadata', 'local.meta'), '[]\naccess = read : [ * ]\n');
    mkdirSync(join(app, 'bin', '__pycache__'), { recursive: true });
    writeFileSync(join(app, 'bin', '__pycache__', 'x.cpython-311.pyc'), 'x');
    const { tgz, stdout } = buildPackage(app, join(work, 'local'));
    const names = entries(tgz).map((e) => e.name);
    expect(names).toContain(`${ADDON_NAME}/default/savedsearches.conf`);
    expect(names.filter((n) => /\/local(\/|$)|local\.meta|__pycache__|\.pyc$/.test(n))).toEqual([]);
    expect(stdout).toMatch(/left out .*local\/props\.conf/);
    expect(stdout).toMatch(/metadata\/local\.meta/);
  });

  it('stops when app.conf or app.manifest states another version than package.json, and says where', () => {
    const app = addonCopy(false);
    copies.push(dirname(app));
    const conf = join(app, 'default', 'app.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^version = .*$/m, 'version = 9.9.9'));
    const r = spawnSync(
      'python3',
      [join(ROOT, 'scripts', 'build-splunk.py'), '--app', app, '--out', join(work, 'bad')],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /default\/app\.conf \[launcher\] version is 9\.9\.9, package\.json's version is .*: set it to/,
    );
    expect(() => readdirSync(join(work, 'bad'))).toThrow();
  });

  it('is what package.json runs, and the npm package ships the add-on and its packager', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      files: string[];
    };
    expect(pkg.scripts['build:splunk']).toBe('python3 scripts/build-splunk.py');
    expect(pkg.files).toEqual(
      expect.arrayContaining(['splunk/TA-jumpcloud-directory-insights/', 'scripts/build-splunk.py']),
    );
    expect(execFileSync('python3', [join(ROOT, 'scripts', 'build-splunk.py'), '--help'], { encoding: 'utf8' })).toMatch(
      /--app DIR.*--out DIR/s,
    );
  });
});
