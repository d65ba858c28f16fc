// The package bin as npm installs it: compiled by tsc, run with node (or through its shebang and a bin symlink).
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv } from '../../support/run-cli.js';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'fbjc-build-'));
const cli = join(out, 'dist', 'input', 'cli.js');
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  // Compile into a scratch copy so the suite never races a build of dist/. Type errors elsewhere in input/
  // do not stop tsc from emitting; this test is about the emitted bin.
  await run(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.json'),
      '--outDir',
      join(out, 'dist'),
      '--tsBuildInfoFile',
      join(out, 'tsbuildinfo'),
    ],
    { cwd: ROOT },
  ).catch((err: { stdout?: string }) => {
    if (!existsSync(cli)) throw new Error(`tsc emitted no cli.js: ${err.stdout ?? ''}`);
  });
  copyFileSync(join(ROOT, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
}, 120_000);

describe('built bin', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('node dist/input/cli.js --help and --version work', async () => {
    const help = await run(process.execPath, [cli, '--help'], { env: cleanEnv() });
    expect(help.stdout).toContain('--api-key');
    expect(help.stdout).toContain('JUMPCLOUD_API_KEY_FILE');
    const version = await run(process.execPath, [cli, '--version'], { env: cleanEnv() });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('runs through a bin symlink and its shebang', async () => {
    chmodSync(cli, 0o755);
    const link = join(out, 'fluent-bit-jumpcloud');
    symlinkSync(cli, link);
    const r = await run(link, ['--version'], { env: cleanEnv() });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const bad = await run(link, ['--lag', 'x'], { env: cleanEnv() }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(/invalid --lag/);
  });
});
