// The demo's readable view of ECS documents: one compact line per document (time, service, event.action,
// outcome, user, source address), at most a few lines a second so a backfill does not flood the terminal; the
// lines it skips are counted and named, and every document is in the NDJSON file anyway.

type Doc = Record<string, unknown>;

function at(doc: Doc, path: string): unknown {
  let v: unknown = doc;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Doc)[key];
  }
  return v;
}

function text(doc: Doc, ...paths: string[]): string {
  for (const p of paths) {
    const v = at(doc, p);
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return '-';
}

/** Where the user is, the first of them set: the ECS profiles and event types put it in different fields. */
const USER_FIELDS = ['user.name', 'user.email', 'source.user.email', 'source.user.name', 'user.id', 'source.user.id'];

/** One line for an ECS document of either profile: `time  tag  action  outcome  user  source`. */
export function compactLine(docText: string, tag: string): string {
  let doc: Doc;
  try {
    doc = JSON.parse(docText) as Doc;
  } catch {
    return `${tag}  (not JSON) ${docText.slice(0, 120)}`;
  }
  const time = text(doc, '@timestamp');
  const failed = at(doc, 'error.message');
  return [
    time,
    tag.padEnd(22),
    text(doc, 'event.action').padEnd(28),
    text(doc, 'event.outcome').padEnd(7),
    `user=${text(doc, ...USER_FIELDS)}`,
    `src=${text(doc, 'source.ip', 'client.ip', 'source.address')}`,
    ...(typeof failed === 'string' ? [`ERROR ${failed}`] : []),
  ].join('  ');
}

export interface EcsView {
  show(docText: string, tag: string): void;
  /** Writes the pending "N more" line, if any. */
  flush(): void;
}

/**
 * Prints at most `perSecond` lines each second; the rest are summarised with where to find them. Documents that
 * `pinned` marks (a scenario's) are always shown, after the mark.
 */
export function createEcsView(
  out: { write(s: string): unknown },
  ndjsonPath: string,
  perSecond = 5,
  now: () => number = Date.now,
  pinned: (docText: string) => string | undefined = () => undefined,
): EcsView {
  let second = -1;
  let shown = 0;
  let skipped = 0;
  const flush = (): void => {
    if (skipped > 0) out.write(`   … ${skipped} more document${skipped === 1 ? '' : 's'} (all in ${ndjsonPath})\n`);
    skipped = 0;
  };
  return {
    show(docText, tag) {
      const mark = pinned(docText);
      if (mark !== undefined) {
        out.write(`${mark} ${compactLine(docText, tag)}\n`);
        return;
      }
      const s = Math.floor(now() / 1000);
      if (s !== second) {
        flush();
        second = s;
        shown = 0;
      }
      if (shown < perSecond) {
        shown++;
        out.write(`${compactLine(docText, tag)}\n`);
      } else {
        skipped++;
      }
    },
    flush,
  };
}
