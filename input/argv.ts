// A strict GNU-style argv parser: `--name value`, `--name=value`, `--flag`, `--no-flag`, `--flag=false`.
// It knows nothing of the options' meaning beyond "takes a value or not"; config.ts does the rest.
import { JumpCloudError } from './errors.js';

export class ArgvError extends JumpCloudError {
  static override readonly code: string = 'ARGV_INVALID';
  override readonly fatal = true;
  constructor(
    message: string,
    readonly flag?: string,
  ) {
    super(message);
  }
}

export interface FlagValue {
  /** Option name without the dashes (`api-url`). */
  readonly name: string;
  /** The flag as written (`--api-url`, `--no-tls-verify`). */
  readonly flag: string;
  readonly value: string | boolean;
}

export interface ParsedArgv {
  readonly flags: readonly FlagValue[];
  readonly positionals: readonly string[];
}

export function parseArgv(
  argv: readonly string[],
  describe: (name: string) => 'value' | 'boolean' | undefined,
  suggest: (name: string) => string | undefined,
): ParsedArgv {
  const flags: FlagValue[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg === '-h') {
        flags.push({ name: 'help', flag: arg, value: true });
        continue;
      }
      if (arg === '-V' || arg === '-v') {
        flags.push({ name: 'version', flag: arg, value: true });
        continue;
      }
      throw new ArgvError(`unknown option ${arg}: options are long, like --api-key (see --help)`, arg);
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let kind = describe(name);
    let negated = false;
    if (kind === undefined && name.startsWith('no-') && describe(name.slice(3)) === 'boolean') {
      kind = 'boolean';
      negated = true;
    }
    if (kind === undefined) {
      const hint = suggest(name);
      throw new ArgvError(
        `unknown option --${name}${hint ? `: did you mean --${hint}?` : ''} (see --help)`,
        `--${name}`,
      );
    }
    const realName = negated ? name.slice(3) : name;
    if (kind === 'boolean') {
      if (inline === undefined) {
        flags.push({ name: realName, flag: `--${name}`, value: !negated });
      } else if (negated) {
        throw new ArgvError(`--${name} takes no value`, `--${name}`);
      } else {
        flags.push({ name: realName, flag: `--${name}`, value: inline });
      }
      continue;
    }
    if (inline !== undefined) {
      flags.push({ name, flag: `--${name}`, value: inline });
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('--') && next.length > 2)) {
      throw new ArgvError(`--${name} needs a value`, `--${name}`);
    }
    flags.push({ name, flag: `--${name}`, value: next });
    i++;
  }
  return { flags, positionals };
}

/** Edit distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
