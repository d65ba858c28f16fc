// Every relative link, #anchor and repository path the documents name exists, and no document tells how the
// project was built. The checker is first shown to fail on documents broken on purpose.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { anchorsOf, DocChecker, documents, expandBraces, pathTokens, slug } from '../../support/doc-links.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the checker', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'doc-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'docs'));
  mkdirSync(path.join(dir, 'input/di'), { recursive: true });
  writeFileSync(path.join(dir, 'input/di/client.ts'), '');
  writeFileSync(path.join(dir, 'docs/a.md'), '# Title\n\n## What `--x` does\n\n## Same\n\n## Same\n');
  const checker = new DocChecker(dir);
  const problems = (text: string): string[] => {
    writeFileSync(path.join(dir, 'docs/b.md'), text);
    return checker.check('docs/b.md').problems.map((p) => `${p.line}: ${p.what}`);
  };

  it('accepts what exists', () => {
    expect(
      problems(
        '# B\n[a](a.md), [x](a.md#what---x-does), [s](a.md#same-1), [me](#b), [w](https://example.com/x.md)\n' +
          '`input/di/client.ts`, `input/{di,di}/client.ts`, `input/di/*.ts`, `build/x.wasm`, `$(npm root)/x/y.md`\n' +
          '```sh\nnode input/di/client.ts /usr/local/share/x --state-dir <dir>/x\n```\n',
      ),
    ).toEqual([]);
  });

  it('fails on a broken link, a missing anchor, a missing path, a moved folder and history', () => {
    expect(
      problems(
        '# B\n[a](nope.md) [b](a.md#nope) [c](#nope)\n`input/di/nope.ts` and `spec/ecs-mapping.md`\n' +
          '```\ninput/forward/client.ts\n```\nMeasured in session 7, before issue 13, at main at 7aca7c0.\n',
      ),
    ).toEqual([
      '2: links to nope.md, which does not exist (docs/nope.md)',
      '2: links to a.md#nope: docs/a.md has no heading with the anchor #nope',
      '2: links to #nope: docs/b.md has no heading with the anchor #nope',
      '3: names input/di/nope.ts, which does not exist (input/di/nope.ts)',
      '3: names spec/ecs-mapping.md, which does not exist (spec/ecs-mapping.md)',
      '5: names input/forward/client.ts, which does not exist (input/forward/client.ts)',
      `7: tells the project's history: "session 7"`,
      `7: tells the project's history: "issue 13"`,
      `7: tells the project's history: "before issue"`,
      `7: tells the project's history: "main at 7aca7c0"`,
    ]);
  });

  it('reads anchors, braces and path tokens as GitHub and a shell would', () => {
    expect(slug('Outputs: which to choose')).toBe('outputs-which-to-choose');
    expect(slug('What "exactly once" means here')).toBe('what-exactly-once-means-here');
    expect([...anchorsOf('# A\n```\n# not a heading\n```\n## A\n<a id="x"></a>')]).toEqual(['a', 'a-1', 'x']);
    expect(expandBraces('conf/output-{es,splunk}.{conf,yaml}')).toEqual([
      'conf/output-es.conf',
      'conf/output-es.yaml',
      'conf/output-splunk.conf',
      'conf/output-splunk.yaml',
    ]);
    expect(pathTokens('-d @templates/x.json "$OS/_index" https://a.b/c <state-dir>/x test/e2e/ (docs/y.md).')).toEqual([
      'templates/x.json',
      'test/e2e/',
      'docs/y.md',
    ]);
  });
});

describe("the repository's documents", () => {
  const checker = new DocChecker(ROOT);
  const docs = documents(ROOT);

  it('include the README, CONTRIBUTING, CHANGELOG, docs/ and the content folders’ READMEs', () => {
    for (const d of ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'docs/operations.md', 'scenarios/README.md'])
      expect(docs).toContain(d);
    expect(docs.filter((d) => d.startsWith('splunk/') || d.startsWith('templates/')).length).toBeGreaterThan(1);
  });

  it('name only links, anchors and paths that exist, and no history', () => {
    const results = docs.map((d) => checker.check(d));
    const problems = results.flatMap((r) => r.problems.map((p) => `${p.doc}:${p.line}: ${p.what}`));
    expect(problems).toEqual([]);
    const total = (k: 'links' | 'anchors' | 'paths'): number => results.reduce((n, r) => n + r[k], 0);
    // Enough was read to mean something: a parser that found nothing would pass on anything.
    expect(total('links')).toBeGreaterThan(50);
    expect(total('anchors')).toBeGreaterThan(10);
    expect(total('paths')).toBeGreaterThan(250);
    console.log(
      `documents: ${docs.length}, relative links: ${total('links')} (with anchors: ${total('anchors')}), ` +
        `repository paths: ${total('paths')}`,
    );
  });
});
