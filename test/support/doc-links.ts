// What a document names must exist: its relative links (and their #anchors), and the repository paths it names in
// code (`input/di/client.ts`, `test/system/e2e/`, `conf/output-{es,splunk}.conf`, `fixtures/samples/*.json`). And a
// document speaks of the product, not of how it was built: no work sessions, issue numbers or before/after commits.
// Used by test/unit/docs/links.test.ts, on the repository's documents and on broken ones made to prove it fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Problem {
  readonly doc: string;
  readonly line: number;
  readonly what: string;
}

export interface Checked {
  readonly problems: Problem[];
  readonly links: number;
  readonly anchors: number;
  readonly paths: number;
}

/** Where a path points to something a build or a tool makes, not to a file of the repository. */
const GENERATED = /^(build|dist|node_modules|state|\.venv[^/]*|test\/opensearch\/target)(\/|$)/;

/** Words that tell the project's history rather than the product. */
export const HISTORY: readonly RegExp[] = [
  /\bsessions? \d+/i,
  /\bissues? #?\d+/i,
  /\bbefore issue\b/i,
  /\b(?:commit|main at|at commit) [0-9a-f]{7,40}\b/i,
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown text defines: its headings (duplicates numbered as GitHub does) and `<a id>`s. */
export function anchorsOf(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line, fenced } of lines(text)) {
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

/** Each line with whether it lies in a fenced code block (the fences themselves count as fenced). */
function lines(text: string): { line: string; n: number; fenced: boolean }[] {
  let fence: string | undefined;
  return text.split('\n').map((line, i) => {
    const f = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (f && (fence === undefined || f.startsWith(fence))) {
      fence = fence === undefined ? f : undefined;
      return { line, n: i + 1, fenced: true };
    }
    return { line, n: i + 1, fenced: fence !== undefined };
  });
}

/** `a/{b,c}/d` → `a/b/d`, `a/c/d` (nested braces too). */
export function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/** The tokens of code that look like relative paths: a slash inside, no variables, placeholders or URLs. */
export function pathTokens(code: string): string[] {
  return code
    .split(/[\s"'`()<>;=|[\]]+/)
    .map((t) => t.replace(/^[@:,]+/, '').replace(/[.,:;]+$/, ''))
    .filter((t) => t.includes('/') && !/[$<>~:\\%^!]/.test(t) && !t.startsWith('/') && !t.startsWith('-'))
    .filter((t) => /^[\w.@*{}/,+-]+$/.test(t) && /[A-Za-z]/.test(t) && !t.startsWith('//'));
}

export class DocChecker {
  private readonly anchorCache = new Map<string, Set<string>>();
  private readonly top: Set<string>;
  /** Every folder of the repository by its name: `delivery/index.ts` is looked for under each `delivery`. */
  private readonly folders = new Map<string, string[]>();

  /** `root` is the repository. */
  constructor(private readonly root: string) {
    this.top = new Set(readdirSync(root).filter((e) => !GENERATED.test(e) && e !== '.git'));
    for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
      const rel = path.relative(root, path.join(e.parentPath, e.name));
      if (!e.isDirectory() || GENERATED.test(rel) || rel.split(path.sep).includes('.git')) continue;
      this.folders.set(e.name, [...(this.folders.get(e.name) ?? []), rel]);
    }
  }

  /** Checks one document (a path relative to the root). */
  check(doc: string): Checked {
    const text = readFileSync(path.join(this.root, doc), 'utf8');
    const problems: Problem[] = [];
    const counts = { links: 0, anchors: 0, paths: 0 };
    const dir = path.dirname(doc);
    for (const { line, n, fenced } of lines(text)) {
      const say = (what: string): void => void problems.push({ doc, line: n, what });
      for (const re of HISTORY) if (re.test(line)) say(`tells the project's history: "${re.exec(line)![0]}"`);
      const spans = fenced ? [line] : [...line.matchAll(/(`+)(.+?)\1(?!`)/g)].map((m) => m[2]!);
      for (const code of spans)
        for (const token of pathTokens(code)) {
          const candidates = this.repoPaths(token, dir);
          if (candidates.length === 0) continue;
          counts.paths++;
          if (!candidates.some((p) => this.exists(p)))
            say(`names ${token}, which does not exist (${candidates.join(' or ')})`);
        }
      if (fenced) continue;
      const prose = line.replace(/(`+)(.+?)\1(?!`)/g, '');
      const targets = [
        ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
        ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((m) => m[1]!),
      ];
      for (const target of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        counts.links++;
        const problem = this.link(target, doc);
        if (problem) say(problem);
        else if (target.includes('#')) counts.anchors++;
      }
    }
    return { problems, ...counts };
  }

  /** What a link is wrong about, or undefined. */
  private link(target: string, doc: string): string | undefined {
    const [file, anchor] = target.split('#', 2) as [string, string | undefined];
    const p = file === '' ? doc : path.normalize(path.join(path.dirname(doc), decodeURIComponent(file)));
    if (p.startsWith('..')) return `links to ${target}, outside the repository`;
    if (!existsSync(path.join(this.root, p))) return `links to ${target}, which does not exist (${p})`;
    if (anchor === undefined) return undefined;
    if (!p.endsWith('.md')) return `links to #${anchor} in ${p}, which is no Markdown document`;
    if (!this.anchors(p).has(anchor)) return `links to ${target}: ${p} has no heading with the anchor #${anchor}`;
    return undefined;
  }

  private anchors(doc: string): Set<string> {
    let a = this.anchorCache.get(doc);
    if (!a) this.anchorCache.set(doc, (a = anchorsOf(readFileSync(path.join(this.root, doc), 'utf8'))));
    return a;
  }

  /**
   * The repository paths a code token may name, relative to the root (one must exist); none when it names no
   * repository path. A token names one when it starts with a top-level entry of the repository (or `./`: commands
   * run from the root), with `../` or a folder beside the document (relative to it). A file or folder name (an
   * extension, or a trailing `/`) under a folder named anywhere in the repository (`delivery/index.ts`) may be in
   * any folder of that name. A Markdown file under any other folder (`spec/x.md`) is a path too, and must exist.
   */
  private repoPaths(token: string, dir: string): string[] {
    const first = token.split('/')[0]!;
    const rest = token.slice(first.length + 1);
    let out: string[] = [];
    if (first === '..') out = [path.join(dir, token)];
    else if (first === '.' || this.top.has(first)) out = [token];
    else if (dir !== '.' && this.isDir(path.join(dir, first))) out = [path.join(dir, token)];
    else if (this.folders.has(first) && /(\.\w+|\/)$/.test(token))
      out = this.folders.get(first)!.map((f) => path.join(f, rest));
    else if (/\.md$/.test(token)) out = [token];
    return out.map((p) => path.normalize(p)).filter((p) => !GENERATED.test(p));
  }

  private isDir(p: string): boolean {
    const full = path.join(this.root, p);
    return existsSync(full) && statSync(full).isDirectory();
  }

  /** The path exists (braces expanded; a `*` in the last part must match something). */
  private exists(p: string): boolean {
    return expandBraces(p).every((one) => {
      if (!one.includes('*')) return existsSync(path.join(this.root, one));
      const dir = path.dirname(one);
      if (dir.includes('*') || !this.isDir(dir)) return false;
      const re = new RegExp(
        `^${path
          .basename(one)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      );
      return readdirSync(path.join(this.root, dir)).some((e) => re.test(e));
    });
  }
}

/** The repository's documents: the README, CONTRIBUTING, CHANGELOG, docs/ and the READMEs of content folders. */
export function documents(root: string): string[] {
  const readmes = (dir: string): string[] => {
    const full = path.join(root, dir);
    if (!existsSync(full)) return [];
    return readdirSync(full, { recursive: true, encoding: 'utf8' })
      .filter((f) => path.basename(f) === 'README.md')
      .map((f) => path.join(dir, f));
  };
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const detections = existsSync(path.join(root, 'detections/README.md')) ? ['detections/README.md'] : [];
  return [
    'README.md',
    'CONTRIBUTING.md',
    'CHANGELOG.md',
    ...docs,
    'scenarios/README.md',
    ...detections,
    ...readmes('splunk'),
    ...readmes('templates'),
    ...readmes('fixtures'),
  ].sort();
}
