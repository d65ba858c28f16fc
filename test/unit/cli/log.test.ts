import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, statusLine } from '../../../input/log.js';
import { SCRUBBED, secretScrubber } from '../../../input/scrub.js';

function capture(level: 'info' | 'debug' | 'warn' = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => lines.push(line) } });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON lines with level, time and message, honouring the level', () => {
    const { logger, json } = capture('info');
    logger.debug({ a: 1 }, 'hidden');
    logger.info({ stream: 'sso' }, 'hello');
    const [line] = json();
    expect(json()).toHaveLength(1);
    expect(line).toMatchObject({ level: 'info', msg: 'hello', stream: 'sso', name: 'fluent-bit-jumpcloud' });
    expect(typeof line!.time).toBe('string');
  });

  it('redacts secret keys at any depth up to four levels', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        apiKey: 'S1-secret',
        config: {
          auth: { apiKey: 'S2-secret', clientSecret: 'S3-secret' },
          sharedKey: 'S4-secret',
          password: 'S5-secret',
        },
        headers: { 'x-api-key': 'S6-secret', authorization: 'Bearer S7-secret' },
        token: 'S8-secret',
      },
      'with secrets',
    );
    const text = lines.join('');
    for (let i = 1; i <= 8; i++) expect(text).not.toContain(`S${i}-secret`);
    expect(text).toContain(REDACTED);
  });
});

describe('secretScrubber', () => {
  it('blanks every occurrence, also JSON-escaped', () => {
    const scrub = secretScrubber(['k3y"with"quotes', 'plainsecret']);
    expect(scrub('a plainsecret b plainsecret')).toBe(`a ${SCRUBBED} b ${SCRUBBED}`);
    expect(scrub(JSON.stringify({ m: 'key k3y"with"quotes' }))).not.toContain('k3y');
    expect(secretScrubber([])('unchanged')).toBe('unchanged');
    // Too short to scrub without wrecking the logs.
    expect(secretScrubber(['ab'])('abc')).toBe('abc');
  });

  it('leaves no secret in any text (property)', () => {
    const secret = fc
      .string({ minLength: 3, maxLength: 20 })
      .filter(
        (s) => !`"${SCRUBBED}"`.includes(s) && !JSON.stringify(SCRUBBED).includes(JSON.stringify(s).slice(1, -1)),
      );
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.array(fc.string(), { maxLength: 5 }),
        (secrets, parts) => {
          const text =
            parts.map((p, i) => p + secrets[i % secrets.length]!).join('') + JSON.stringify({ e: secrets.join(' ') });
          const out = secretScrubber(secrets)(text);
          for (const s of secrets) {
            // A secret can only survive where replacing a longer one created it out of '[redacted]' and text around.
            if (!out.includes(s)) continue;
            expect(out.split(SCRUBBED).join('').includes(s)).toBe(false);
          }
        },
      ),
    );
  });
});

describe('statusLine', () => {
  it('a log line clears an open bar line first, so it never lands after the bar text', () => {
    const out: string[] = [];
    const s = statusLine({ isTTY: true, write: (x: string) => (out.push(x), true) });
    expect(s.isTTY).toBe(true);
    s.writeLog('{"msg":"a"}\n');
    s.write('\r\x1b[2Kbackfill all ░░ 1.0%');
    s.writeLog('{"msg":"b"}\n');
    s.write('\r\x1b[2Kbackfill all ██ 100.0%\n');
    s.writeLog('{"msg":"c"}\n');
    expect(out.join('')).toBe(
      '{"msg":"a"}\n\r\x1b[2Kbackfill all ░░ 1.0%\r\x1b[2K{"msg":"b"}\n\r\x1b[2Kbackfill all ██ 100.0%\n{"msg":"c"}\n',
    );
  });
});
