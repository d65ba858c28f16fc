// The id journal's line grammar (`<service>.ids`, one line per id, appended; see index.ts for what each state means):
//   id<TAB>ts                 delivered: the chunk holding it was acked and the ack settled
//   id<TAB>ts<TAB>acked@ms    acked at ms (epoch ms), not settled yet: a restart asks the oracle whether it was stored
//   id<TAB>ts<TAB>sent@seq    about to be written as the forward ledger's write seq: a restart asks the ledger
// ts is the event time in epoch ms (truncated). An id holding a tab, a line break or a quote is written as a JSON
// string. Lines are written into reused buffers (writeLine) and parsed from the file's bytes (readJournal): a string
// per line would cost ~200 bytes of garbage per event on the hot path.

export const ACKED = 'acked@';
export const SENT = 'sent@';
/** The marks a line may end with: acked@<ack epoch ms>, sent@<ledger seq>. */
export type Mark = typeof ACKED | typeof SENT;
const MARK_BYTES: Record<Mark, Buffer> = {
  [ACKED]: Buffer.from(`\t${ACKED}`, 'latin1'),
  [SENT]: Buffer.from(`\t${SENT}`, 'latin1'),
};

const NEEDS_QUOTING = /[\t\r\n"]/;

/** Bytes a line of `id` may take at most (3 per UTF-16 unit bounds any string; the numbers fit in 64). */
export function lineBytesMax(id: string): number {
  return 3 * id.length + 64;
}

/** The line of (id, ts), marked `mark`markValue when a value is given (acked@ by default), as text. */
export function encodeLine(id: string, ts: number, markValue?: number, mark: Mark = ACKED): string {
  const tail = markValue === undefined ? '' : `\t${mark}${markValue}`;
  return `${NEEDS_QUOTING.test(id) ? JSON.stringify(id) : id}\t${ts}${tail}\n`;
}

/** Writes the decimal digits of a safe non-negative integer at `at`; returns the end. */
function writeDigits(buf: Buffer, at: number, v: number): number {
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let i = digits - 1, x = v; i >= 0; i--, x = Math.floor(x / 10)) buf[at + i] = 48 + (x % 10);
  return at + digits;
}

/**
 * Writes the line of (id, ts) — marked `mark`markValue (acked@ms by default) when given — at `at` (room checked by
 * the caller: lineBytesMax(id)); returns the end. The same bytes as encodeLine, without building a string for a plain
 * id and safe-integer times.
 */
export function writeLine(
  buf: Buffer,
  at: number,
  id: string,
  ts: number,
  markValue?: number,
  mark: Mark = ACKED,
): number {
  const plainMark = markValue === undefined || (Number.isSafeInteger(markValue) && markValue >= 0);
  if (NEEDS_QUOTING.test(id) || !Number.isSafeInteger(ts) || ts < 0 || !plainMark) {
    return at + buf.write(encodeLine(id, ts, markValue, mark), at, 'utf8');
  }
  at += buf.write(id, at, 'utf8');
  buf[at++] = 0x09;
  at = writeDigits(buf, at, ts);
  if (markValue !== undefined) {
    at += MARK_BYTES[mark].copy(buf, at);
    at = writeDigits(buf, at, markValue);
  }
  buf[at++] = 0x0a;
  return at;
}

/** What readJournal found on each well-formed line, in file order. */
export interface JournalVisitor {
  delivered(id: string, ts: number): void;
  acked(id: string, ts: number, ackedAt: number): void;
  written(id: string, ts: number, seq: number): void;
}

/** The number after a line's last tab when it starts with `m` there, else undefined. */
function markValueOf(bytes: Buffer, lineStart: number, tab: number, nl: number, m: Mark): number | undefined {
  if (tab <= lineStart || bytes.toString('latin1', tab + 1, Math.min(nl, tab + 1 + m.length)) !== m) return undefined;
  return Number(bytes.toString('latin1', tab + 1 + m.length, nl));
}

/**
 * Parses the whole lines of bytes[0, end) (end: just after a line break), calling `visit` for each; returns how many
 * lines were malformed (skipped). Each id is a string of its own: slices of one big text would pin all of it.
 */
export function readJournal(bytes: Buffer, end: number, visit: JournalVisitor): number {
  let bad = 0;
  for (let at = 0; at < end;) {
    const nl = bytes.indexOf(0x0a, at);
    const lineStart = at;
    at = nl + 1;
    if (nl === lineStart) continue;
    let tab = bytes.lastIndexOf(0x09, nl);
    const ackedAt = markValueOf(bytes, lineStart, tab, nl, ACKED);
    const sentSeq = ackedAt === undefined ? markValueOf(bytes, lineStart, tab, nl, SENT) : undefined;
    const markValue = ackedAt ?? sentSeq;
    let tsEnd = nl;
    if (markValue !== undefined) {
      tsEnd = tab;
      tab = bytes.lastIndexOf(0x09, tab - 1);
      if (!Number.isFinite(markValue) || tab < lineStart) tab = -1;
    }
    let id = tab > lineStart ? bytes.toString('utf8', lineStart, tab) : '';
    const ts = tab >= lineStart ? Number(bytes.toString('latin1', tab + 1, tsEnd)) : NaN;
    if (id.startsWith('"')) {
      try {
        id = JSON.parse(id) as string;
      } catch {
        id = '';
      }
    }
    if (id === '' || !Number.isFinite(ts)) bad++;
    else if (ackedAt !== undefined) visit.acked(id, ts, ackedAt);
    else if (sentSeq !== undefined) visit.written(id, ts, sentSeq);
    else visit.delivered(id, ts);
  }
  return bad;
}
