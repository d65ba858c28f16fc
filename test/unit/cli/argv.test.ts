import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArgvError, closest, editDistance, parseArgv } from '../../../input/argv.js';

const VALUE = new Set(['api-key', 'lag', 'services']);
const BOOL = new Set(['once', 'tls-verify', 'help']);
const describeFlag = (n: string): 'value' | 'boolean' | undefined =>
  VALUE.has(n) ? 'value' : BOOL.has(n) ? 'boolean' : undefined;
const suggest = (n: string): string | undefined => closest(n, [...VALUE, ...BOOL]);

describe('parseArgv', () => {
  it('reads every flag form', () => {
    expect(
      parseArgv(
        ['--lag', '5m', '--api-key=a=b', '--once', '--no-tls-verify', '--tls-verify=false', '-h', '--', '--lag'],
        describeFlag,
        suggest,
      ),
    ).toEqual({
      flags: [
        { name: 'lag', flag: '--lag', value: '5m' },
        { name: 'api-key', flag: '--api-key', value: 'a=b' },
        { name: 'once', flag: '--once', value: true },
        { name: 'tls-verify', flag: '--no-tls-verify', value: false },
        { name: 'tls-verify', flag: '--tls-verify', value: 'false' },
        { name: 'help', flag: '-h', value: true },
      ],
      positionals: ['--lag'],
    });
  });

  it('rejects unknown and incomplete flags with a message', () => {
    expect(() => parseArgv(['--lagg', '1m'], describeFlag, suggest)).toThrow(
      /unknown option --lagg: did you mean --lag\?/,
    );
    expect(() => parseArgv(['--lag'], describeFlag, suggest)).toThrow(/--lag needs a value/);
    expect(() => parseArgv(['--lag', '--once'], describeFlag, suggest)).toThrow(/--lag needs a value/);
    expect(() => parseArgv(['--no-once=1'], describeFlag, suggest)).toThrow(/takes no value/);
    expect(() => parseArgv(['-x'], describeFlag, suggest)).toThrow(ArgvError);
    expect(() => parseArgv(['--no-lag'], describeFlag, suggest)).toThrow(/unknown option --no-lag/);
  });

  it('round-trips any list of known flags and values', () => {
    const flag = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(...VALUE),
          fc.string({ minLength: 1 }).filter((s) => !s.startsWith('--')),
          fc.boolean(),
        )
        .map(([name, value, inline]) => ({
          name,
          value: value as string | boolean,
          argv: inline ? [`--${name}=${value}`] : [`--${name}`, value],
        })),
      fc
        .tuple(fc.constantFrom(...BOOL), fc.boolean())
        .map(([name, on]) => ({ name, value: on as string | boolean, argv: [on ? `--${name}` : `--no-${name}`] })),
    );
    fc.assert(
      fc.property(fc.array(flag, { maxLength: 8 }), (flags) => {
        const parsed = parseArgv(
          flags.flatMap((f) => f.argv),
          describeFlag,
          suggest,
        );
        expect(parsed.positionals).toEqual([]);
        expect(parsed.flags.map((f) => [f.name, f.value])).toEqual(flags.map((f) => [f.name, f.value]));
      }),
    );
  });

  it('never throws anything but ArgvError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (argv) => {
        try {
          parseArgv(argv, describeFlag, suggest);
        } catch (err) {
          expect(err).toBeInstanceOf(ArgvError);
        }
      }),
    );
  });
});

describe('editDistance / closest', () => {
  it('is a metric on small strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => {
        expect(editDistance(a, a)).toBe(0);
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b)).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
    );
    expect(closest('servises', ['services', 'since'])).toBe('services');
    expect(closest('zzzzzz', ['services', 'since'])).toBeUndefined();
  });
});
