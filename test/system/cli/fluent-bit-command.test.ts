// `fluent-bit-command`: the printed line is one POSIX sh command that works as printed (run here with a stand-in
// executable that reports what it was started with; pack.test.ts and FLUENT_BIT_BIN run the real Fluent Bit).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fluentBitCommand } from '../../../input/fluent-bit-command.js';
import { packageInfo, selfCommand } from '../../../input/package-info.js';
import { shellWord } from '../../../input/shell.js';
import { runCli } from '../../support/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fbjc-fbcmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = join(dir, 'report');
writeFileSync(probe, '#!/bin/sh\necho "cwd=$(pwd)"\nfor a in "$@"; do echo "arg=$a"; done\nenv\n');
chmodSync(probe, 0o755);
const sh = (line: string): string =>
  execFileSync('sh', ['-c', line], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

describe('fluent-bit-command', () => {
  it('shellWord keeps any string one word, byte for byte', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 0, maxLength: 40 }).filter((s) => !s.includes('\0')),
        (s) => {
          expect(sh(`printf %s ${shellWord(s)}`)).toBe(s);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('loads conf/jumpcloud.env, overrides the paths and the forward address, passes extra arguments', () => {
    const storage = join(dir, "store with 'quote'");
    const out = sh(
      fluentBitCommand({
        fluentBit: probe,
        storagePath: storage,
        forward: { kind: 'tcp', host: '::1', port: 24300 },
        yaml: true,
        extraArgs: ['--dry-run'],
      }),
    );
    const root = packageInfo().root;
    expect(out).toContain(`cwd=${root}\n`);
    expect(out).toContain('arg=-c\narg=fluent-bit.yaml\narg=--dry-run\n');
    expect(out).toContain('FLUENT_BIT_LOG_LEVEL=info\n');
    expect(out).toContain(`JUMPCLOUD_WASM_PATH=${join(root, 'build', 'jumpcloud.wasm')}\n`);
    expect(out).toContain(`JUMPCLOUD_WASM_DIR=${join(root, 'build')}\n`);
    expect(out).toContain(`JUMPCLOUD_STORAGE_PATH=${storage}\n`);
    expect(out).toContain('FORWARD_LISTEN=::1\n');
    expect(out).toContain('FORWARD_PORT=24300\n');
  });

  it('names this CLI as the user can run it: the bin when that is on PATH, else node and the built cli.js', () => {
    expect(selfCommand('/usr/local/bin/fluent-bit-jumpcloud', '/usr/local/bin:/usr/bin')).toBe('fluent-bit-jumpcloud');
    const viaNode = `node ${join(packageInfo().root, 'dist', 'input', 'cli.js')}`;
    expect(selfCommand('/opt/x/node_modules/.bin/fluent-bit-jumpcloud', '/usr/local/bin:/usr/bin')).toBe(viaNode);
    expect(selfCommand(join(packageInfo().root, 'input', 'cli.ts'), '/usr/bin')).toBe(viaNode);
  });

  it('the subcommand prints it, has --help, and names a bad argument', async () => {
    const ok = await runCli(['fluent-bit-command', '--fluent-bit', probe]);
    expect(ok.code).toBe(0);
    expect(sh(ok.stdout.trim())).toContain('arg=fluent-bit.conf\n');
    const help = await runCli(['fluent-bit-command', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Production keeps the defaults of conf\/jumpcloud\.env/);
    const bad = await runCli(['fluent-bit-command', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown argument --nope\nRun node \S+\/dist\/input\/cli\.js fluent-bit-command --help/);
    const missing = await runCli(['fluent-bit-command', '--wasm', join(dir, 'none.aot')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /no such file \(in a checkout build it: npm run build:filter, .*for an installed package see the README/,
    );
  });
});
