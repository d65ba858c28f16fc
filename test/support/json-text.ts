// JSON text checks the fake Elasticsearch and Splunk servers need and JSON.parse does not give:
// where one value ends in a stream of concatenated values (HEC bodies), and duplicate keys
// (Elasticsearch rejects `{"@timestamp":…,"@timestamp":…}`; JSON.parse silently keeps the last one).

export class JsonTextError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonTextError';
  }
}

interface Scan {
  readonly text: string;
  pos: number;
  /** First duplicate key found, as a dotted path. */
  duplicate?: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(s: Scan): void {
  while (s.pos < s.text.length && WS.has(s.text[s.pos]!)) s.pos++;
}

function scanString(s: Scan): string {
  const start = s.pos;
  if (s.text[s.pos] !== '"') throw new JsonTextError('expected a string', s.pos);
  s.pos++;
  while (s.pos < s.text.length) {
    const c = s.text.charCodeAt(s.pos);
    if (c === 0x22) {
      s.pos++;
      return JSON.parse(s.text.slice(start, s.pos)) as string;
    }
    if (c === 0x5c) s.pos += 2;
    else if (c < 0x20) throw new JsonTextError('control character in a string', s.pos);
    else s.pos++;
  }
  throw new JsonTextError('unterminated string', start);
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function scanValue(s: Scan, path: string): void {
  skipWs(s);
  const c = s.text[s.pos];
  if (c === '{') {
    s.pos++;
    const keys = new Set<string>();
    skipWs(s);
    if (s.text[s.pos] === '}') {
      s.pos++;
      return;
    }
    for (;;) {
      skipWs(s);
      const key = scanString(s);
      const keyPath = path === '' ? key : `${path}.${key}`;
      if (keys.has(key)) s.duplicate ??= keyPath;
      keys.add(key);
      skipWs(s);
      if (s.text[s.pos] !== ':') throw new JsonTextError('expected ":"', s.pos);
      s.pos++;
      scanValue(s, keyPath);
      skipWs(s);
      const sep = s.text[s.pos];
      s.pos++;
      if (sep === '}') return;
      if (sep !== ',') throw new JsonTextError('expected "," or "}"', s.pos - 1);
    }
  }
  if (c === '[') {
    s.pos++;
    skipWs(s);
    if (s.text[s.pos] === ']') {
      s.pos++;
      return;
    }
    for (;;) {
      scanValue(s, path);
      skipWs(s);
      const sep = s.text[s.pos];
      s.pos++;
      if (sep === ']') return;
      if (sep !== ',') throw new JsonTextError('expected "," or "]"', s.pos - 1);
    }
  }
  if (c === '"') {
    scanString(s);
    return;
  }
  for (const word of ['true', 'false', 'null']) {
    if (s.text.startsWith(word, s.pos)) {
      s.pos += word.length;
      return;
    }
  }
  NUMBER.lastIndex = s.pos;
  const m = NUMBER.exec(s.text);
  if (m === null) throw new JsonTextError('unexpected character', s.pos);
  s.pos += m[0].length;
}

/** Parses one JSON text strictly; throws JsonTextError on a syntax error or a duplicate key. */
export function parseStrict(text: string): unknown {
  const s: Scan = { text, pos: 0 };
  scanValue(s, '');
  skipWs(s);
  if (s.pos !== text.length) throw new JsonTextError('trailing data', s.pos);
  if (s.duplicate !== undefined) throw new JsonTextError(`duplicate key "${s.duplicate}"`, 0);
  return JSON.parse(text);
}

/** Splits `{…}{…} {…}` (what HEC accepts) into the text of each value; throws on malformed input. */
export function splitConcatenated(text: string): string[] {
  const s: Scan = { text, pos: 0 };
  const out: string[] = [];
  skipWs(s);
  while (s.pos < text.length) {
    const start = s.pos;
    scanValue(s, '');
    out.push(text.slice(start, s.pos));
    skipWs(s);
  }
  return out;
}
