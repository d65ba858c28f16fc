// Splits one `/events` answer into its elements without decoding or re-serialising them: the collector forwards
// each event's JSON bytes exactly as the API sent them. The page stays bytes (a 10,000-event page is ~11 MB of
// UTF-8 but would be a ~25 MB UTF-16 string), and each event is a view into it, not a copy. One forward pass over
// the bytes validates the whole body as JSON (so a truncated or garbled page is refused whole, never
// half-forwarded) and records each element's span plus the spans of its top-level `id`, `timestamp` and
// `organization` strings, in typed arrays (PageEvents): no object or string per event; they are decoded on demand.
// It is an explicit state machine with its own stack (no recursion, so deep nesting cannot overflow), and outruns
// JSON.parse of the same body because it builds no objects.
// The body must be UTF-8 (the DI client checks that; bytes ≥ 0x80 are never structural in UTF-8 JSON).
import { DiBadPageError } from './errors.js';
import { ColumnarPageEvents, ESCAPED_ID, ESCAPED_ORG, ESCAPED_TIMESTAMP, PageEventsBuilder } from './page-events.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const MINUS = 0x2d;

const ARRAY = 0;
const OBJECT = 1;

// What the scanner expects next.
const S_FIRST_VALUE = 0; // just after '[': a value or ']'
const S_VALUE = 1;
const S_AFTER_VALUE = 2; // ',' or the closer of the enclosing container
const S_FIRST_KEY = 3; // just after '{': a key or '}'
const S_KEY = 4;
const S_COLON = 5;

// Which top-level field of the current element the next value belongs to.
const F_NONE = 0;
const F_ID = 1;
const F_TIMESTAMP = 2;
const F_ORG = 3;

/** Reused by every split (the scan is synchronous): its arrays grow to the largest page once. */
const builder = new PageEventsBuilder(1024);

/**
 * The elements of a JSON array of event objects, each with its exact text and its string `id` and `timestamp`.
 * Throws DiBadPageError when the body is not one complete, valid JSON array of such objects.
 */
/* eslint-disable-next-line max-lines-per-function -- the DI client's hot loop: one pass over a page's bytes (12 MB,
   10,000 events) as a state machine whose states share its locals; cut into functions it would hand them over per
   token (measured by `npm run bench -- di`). Its states (S_VALUE, S_KEY, …) are the blocks of its one loop. */
export function splitJsonArray(bytes: Uint8Array): ColumnarPageEvents {
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (body.length > 0xffffffff)
    throw new DiBadPageError(`answer of ${body.length} bytes is too big to index (4 GiB at most)`, 0);
  const n = body.length;
  const out = builder;
  out.reset();
  const stack: number[] = [];
  // A UTF-8 byte order mark is not JSON, but decoders (and so the string splitter before this one) drop it.
  let i = skipWs(body, startsWithBom(body) ? 3 : 0);
  if (body[i] !== LBRACKET) {
    throw new DiBadPageError(`answer is not a JSON array: it starts with ${snippet(body, i)}`, i);
  }
  stack.push(ARRAY);
  i++;

  let state = S_FIRST_VALUE;
  let elementStart = -1;
  // Spans of the element's id, timestamp and organization string tokens (quotes included); -1: none (yet).
  let idStart = -1,
    idEnd = -1,
    tsStart = -1,
    tsEnd = -1,
    orgStart = -1,
    orgEnd = -1;
  let escapes = 0;
  let field = F_NONE;

  for (;;) {
    i = skipWs(body, i);
    if (i >= n)
      throw new DiBadPageError(`answer is truncated: it ends inside the array after ${out.length} complete events`, i);
    const c = body[i]!;

    if (state === S_VALUE || state === S_FIRST_VALUE) {
      if (c === RBRACKET && state === S_FIRST_VALUE) {
        // Closes an empty array.
        stack.pop();
        i++;
        if (stack.length === 0) return finish(body, i, out);
        state = S_AFTER_VALUE;
        field = F_NONE;
        continue;
      }
      if (stack.length === 1) {
        if (c !== LBRACE)
          throw new DiBadPageError(`element ${out.length} of the answer is not a JSON object: ${snippet(body, i)}`, i);
        elementStart = i;
        idStart = -1;
        tsStart = -1;
        orgStart = -1;
        escapes = 0;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (field === F_ID) idStart = -1;
        else if (field === F_TIMESTAMP) tsStart = -1;
        else if (field === F_ORG) orgStart = -1;
        field = F_NONE;
        stack.push(c === LBRACE ? OBJECT : ARRAY);
        i++;
        state = c === LBRACE ? S_FIRST_KEY : S_FIRST_VALUE;
        continue;
      }
      if (c === QUOTE) {
        const end = stringEnd(body, i);
        if (field !== F_NONE) {
          // Only the span: PageEvents decodes it when asked (as a string of its own, not a view into the page).
          if (field === F_ID) {
            idStart = i;
            idEnd = end < 0 ? -end : end;
            escapes = end < 0 ? escapes | ESCAPED_ID : escapes & ~ESCAPED_ID;
          } else if (field === F_TIMESTAMP) {
            tsStart = i;
            tsEnd = end < 0 ? -end : end;
            escapes = end < 0 ? escapes | ESCAPED_TIMESTAMP : escapes & ~ESCAPED_TIMESTAMP;
          } else {
            orgStart = i;
            orgEnd = end < 0 ? -end : end;
            escapes = end < 0 ? escapes | ESCAPED_ORG : escapes & ~ESCAPED_ORG;
          }
          field = F_NONE;
        }
        i = end < 0 ? -end : end;
        // Most values are followed directly by a comma and the next key: take the comma here.
        if (body[i] === COMMA) {
          i++;
          state = stack[stack.length - 1] === OBJECT ? S_KEY : S_VALUE;
          continue;
        }
      } else {
        if (field === F_ID) idStart = -1;
        else if (field === F_TIMESTAMP) tsStart = -1;
        else if (field === F_ORG) orgStart = -1;
        field = F_NONE;
        if (c === MINUS || (c >= 0x30 && c <= 0x39)) i = numberEnd(body, i);
        else if (c === 0x74 && body[i + 1] === 0x72 && body[i + 2] === 0x75 && body[i + 3] === 0x65)
          i += 4; // true
        else if (
          c === 0x66 &&
          body[i + 1] === 0x61 &&
          body[i + 2] === 0x6c &&
          body[i + 3] === 0x73 &&
          body[i + 4] === 0x65
        )
          i += 5; // false
        else if (c === 0x6e && body[i + 1] === 0x75 && body[i + 2] === 0x6c && body[i + 3] === 0x6c)
          i += 4; // null
        else throw new DiBadPageError(`invalid JSON value at offset ${i}: ${snippet(body, i)}`, i);
      }
      state = S_AFTER_VALUE;
      continue;
    }

    if (state === S_AFTER_VALUE) {
      const top = stack[stack.length - 1];
      if (c === COMMA) {
        i++;
        state = top === OBJECT ? S_KEY : S_VALUE;
        continue;
      }
      if ((top === ARRAY && c === RBRACKET) || (top === OBJECT && c === RBRACE)) {
        stack.pop();
        i++;
        if (stack.length === 1) {
          // An element of the top-level array just closed. A token of two bytes is "" (an escape takes more).
          if (idStart < 0 || idEnd - idStart === 2) {
            throw new DiBadPageError(`element ${out.length} of the answer has no string "id"`, elementStart);
          }
          if (tsStart < 0 || tsEnd - tsStart === 2) {
            const id =
              (escapes & ESCAPED_ID) !== 0
                ? (JSON.parse(body.toString('utf8', idStart, idEnd)) as string)
                : body.toString('utf8', idStart + 1, idEnd - 1);
            throw new DiBadPageError(`event ${id} of the answer has no string "timestamp"`, elementStart);
          }
          const org = orgStart >= 0;
          out.add(elementStart, i, idStart, idEnd, tsStart, tsEnd, escapes, org ? orgStart : 0, org ? orgEnd : 0);
        } else if (stack.length === 0) {
          return finish(body, i, out);
        }
        continue;
      }
      throw new DiBadPageError(`expected ',' or a closing bracket at offset ${i}: ${snippet(body, i)}`, i);
    }

    if (state === S_KEY || state === S_FIRST_KEY) {
      if (c === RBRACE && state === S_FIRST_KEY) {
        stack.pop();
        i++;
        if (stack.length === 1)
          throw new DiBadPageError(`element ${out.length} of the answer is an empty object`, elementStart);
        state = S_AFTER_VALUE;
        continue;
      }
      if (c !== QUOTE) throw new DiBadPageError(`expected an object key at offset ${i}: ${snippet(body, i)}`, i);
      let end = stringEnd(body, i);
      const escaped = end < 0;
      if (escaped) end = -end;
      if (stack.length === 2) {
        // A top-level key of the element: remember whether the next value is its id, timestamp or organization.
        if (escaped) {
          const key = JSON.parse(body.toString('utf8', i, end)) as string;
          field = key === 'id' ? F_ID : key === 'timestamp' ? F_TIMESTAMP : key === 'organization' ? F_ORG : F_NONE;
        } else if (end - i === 4 && body[i + 1] === 0x69 && body[i + 2] === 0x64) field = F_ID;
        else if (end - i === 11 && isKey(body, i + 1, TIMESTAMP_KEY)) field = F_TIMESTAMP;
        else if (end - i === 14 && isKey(body, i + 1, ORGANIZATION_KEY)) field = F_ORG;
        else field = F_NONE;
      }
      // The colon almost always follows the key directly: take it here rather than on another turn of the loop.
      if (body[end] === COLON) {
        i = end + 1;
        state = S_VALUE;
      } else {
        i = end;
        state = S_COLON;
      }
      continue;
    }

    // S_COLON
    if (c !== COLON) throw new DiBadPageError(`expected ':' at offset ${i}: ${snippet(body, i)}`, i);
    i++;
    state = S_VALUE;
  }
}

const TIMESTAMP_KEY = Buffer.from('timestamp', 'latin1');
const ORGANIZATION_KEY = Buffer.from('organization', 'latin1');

function isKey(b: Buffer, at: number, key: Buffer): boolean {
  for (let k = 0; k < key.length; k++) if (b[at + k] !== key[k]) return false;
  return true;
}

function startsWithBom(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

function finish(body: Buffer, i: number, out: PageEventsBuilder): ColumnarPageEvents {
  const end = skipWs(body, i);
  if (end !== body.length)
    throw new DiBadPageError(`unexpected data after the array at offset ${end}: ${snippet(body, end)}`, end);
  return out.finish(body);
}

function skipWs(s: Buffer, i: number): number {
  for (;;) {
    const c = s[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/**
 * Index just past the closing quote of the string opening at `i`, negated when the string holds an escape
 * (its value then needs decoding). Validates escapes and refuses raw control characters, as JSON.parse does.
 */
function stringEnd(s: Buffer, i: number): number {
  const n = s.length;
  let escaped = false;
  for (let j = i + 1; j < n; j++) {
    const c = s[j]!;
    if (c > BACKSLASH) continue; // lower-case letters and every byte of a non-ASCII character: the common case
    if (c === QUOTE) return escaped ? -(j + 1) : j + 1;
    if (c === BACKSLASH) {
      escaped = true;
      const e = s[j + 1];
      if (e === 0x75 /* u */) {
        if (!(isHex(s[j + 2]) && isHex(s[j + 3]) && isHex(s[j + 4]) && isHex(s[j + 5]))) {
          throw new DiBadPageError(`invalid \\u escape at offset ${j}`, j);
        }
        j += 5;
      } else if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        j += 1;
      } else if (j + 1 < n) {
        throw new DiBadPageError(`invalid escape at offset ${j}`, j);
      }
    } else if (c < 0x20) {
      throw new DiBadPageError(`control character inside a string at offset ${j}`, j);
    }
  }
  throw new DiBadPageError(`answer is truncated: unterminated string at offset ${i}`, i);
}

function isHex(c: number | undefined): boolean {
  if (c === undefined) return false;
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function numberEnd(s: Buffer, i: number): number {
  const start = i;
  if (s[i] === MINUS) i++;
  let c = s[i];
  if (c === 0x30) i++;
  else if (c !== undefined && c >= 0x31 && c <= 0x39) i = digitsEnd(s, i);
  else throw new DiBadPageError(`invalid number at offset ${start}`, start);
  c = s[i];
  if (c === 0x2e) {
    const d = digitsEnd(s, i + 1);
    if (d === i + 1) throw new DiBadPageError(`invalid number at offset ${start}`, start);
    i = d;
    c = s[i];
  }
  if (c === 0x65 || c === 0x45) {
    i++;
    c = s[i];
    if (c === 0x2b || c === MINUS) i++;
    const d = digitsEnd(s, i);
    if (d === i) throw new DiBadPageError(`invalid number at offset ${start}`, start);
    i = d;
  }
  return i;
}

function digitsEnd(s: Buffer, i: number): number {
  for (;;) {
    const c = s[i];
    if (c !== undefined && c >= 0x30 && c <= 0x39) i++;
    else return i;
  }
}

function snippet(s: Buffer, i: number): string {
  if (i >= s.length) return '(end of answer)';
  const part = s.toString('utf8', i, i + 60);
  return JSON.stringify(part) + (s.length > i + 60 ? '…' : '');
}
