// The add-on's .conf and .meta files read by addonfactory-splunk-conf-parser-lib (Splunk's Python reader of add-on
// .conf files, test/system/splunk/parse_confs.py) and by the reader the CIM test uses (conf.ts): both read every file,
// and read the same stanzas, settings and values. With the example savedsearches.conf too, and any real one.
// The reader of conf.ts needs no tool; the Python side runs where .venv-splunk is (in CI it must).
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ADDON_DIR, confFiles, parseConf, readAddonConf } from './conf.js';
import { savedSearchProblems } from './savedsearches-contract.js';
import { EXAMPLE_SAVEDSEARCHES, HAVE_TOOLS, IN_CI, MISSING_TOOLS, ROOT, VENV_PYTHON, addonCopy } from './tools.js';

const run = promisify(execFile);
const copies: string[] = [];
afterAll(() => {
  for (const d of copies) rmSync(d, { recursive: true, force: true });
});
if (!HAVE_TOOLS && !IN_CI)
  console.warn(
    `test/system/splunk/conf-parse.test.ts: the addonfactory-splunk-conf-parser-lib part is skipped: ${MISSING_TOOLS}`,
  );

const readAll = (dir: string): Record<string, unknown> =>
  Object.fromEntries(confFiles(dir).map((f) => [f, parseConf(readFileSync(join(dir, f), 'utf8'), f)]));

describe("the add-on's .conf files", () => {
  it("read with the CIM test's reader: every file, and the ones the add-on needs", () => {
    const files = confFiles();
    console.log(`conf files: ${files.join(', ')}`);
    for (const f of [
      'default/app.conf',
      'default/props.conf',
      'default/transforms.conf',
      'default/eventtypes.conf',
      'default/tags.conf',
      'default/macros.conf',
      'metadata/default.meta',
    ]) {
      expect(files).toContain(f);
    }
    expect(Object.keys(readAll(ADDON_DIR))).toEqual(files);
  });

  it('state the version package.json says, in app.conf and app.manifest', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const app = readAddonConf('app')!;
    const manifest = JSON.parse(readFileSync(join(ADDON_DIR, 'app.manifest'), 'utf8')) as {
      info: { id: { name: string; version: string } };
    };
    expect([app.launcher!.version, app.id!.version, manifest.info.id.version]).toEqual([version, version, version]);
    expect([app.package!.id, app.id!.name, manifest.info.id.name]).toEqual([
      'TA-jumpcloud-directory-insights',
      'TA-jumpcloud-directory-insights',
      'TA-jumpcloud-directory-insights',
    ]);
  });

  it('savedsearches.conf, when the detections generator has written it, and the example keep the contract', () => {
    expect(savedSearchProblems(parseConf(readFileSync(EXAMPLE_SAVEDSEARCHES, 'utf8'), 'example'))).toEqual([]);
    const real = readAddonConf('savedsearches');
    if (real) expect(savedSearchProblems(real)).toEqual([]);
    else console.log('default/savedsearches.conf is not there yet: the contract was checked on the example only');
    // The contract catches what Splunk Cloud or other apps would suffer from.
    const bad = parseConf(
      [
        '[default]',
        'dispatch.earliest_time = -30d',
        '[Rule]',
        'search = index=* x',
        'cron_schedule = * * * * *',
        'disabled = 0',
        'action.script = 1',
      ].join('\n'),
      'bad',
    );
    const problems = savedSearchProblems(bad).join('\n');
    for (const said of [
      'global stanza',
      'JumpCloud - ',
      'description is missing',
      'action.script',
      'must start with',
      'disabled = 1',
      '12 times',
    ]) {
      expect(problems).toContain(said);
    }
  });

  describe.skipIf(!HAVE_TOOLS && !IN_CI)('read by addonfactory-splunk-conf-parser-lib', () => {
    for (const [name, example] of [
      ['add-on', false],
      ['add-on with the example savedsearches.conf', true],
    ] as const) {
      it(`${name}: every file parses, to what the CIM test reads`, async () => {
        if (!HAVE_TOOLS) throw new Error(MISSING_TOOLS);
        const dir = addonCopy(example);
        copies.push(dirname(dir));
        const { stdout } = await run(VENV_PYTHON, [join(ROOT, 'test', 'system', 'splunk', 'parse_confs.py'), dir], {
          maxBuffer: 16 * 1024 * 1024,
        }).catch((err: { stderr?: string }) => {
          throw new Error(`addonfactory-splunk-conf-parser-lib refused a file: ${err.stderr ?? err}`);
        });
        const python = JSON.parse(stdout) as Record<string, unknown>;
        const stanzas = Object.values(python).reduce<number>((n, c) => n + Object.keys(c as object).length, 0);
        console.log(
          `addonfactory-splunk-conf-parser-lib, ${name}: ${Object.keys(python).length} files, ${stanzas} stanzas`,
        );
        expect(python).toEqual(readAll(dir));
      }, 60_000);
    }
  });
});
