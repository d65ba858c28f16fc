// What an option is (a row of the options table in ../config.ts), where a value came from, and the error that
// names both.
import { JumpCloudError } from '../errors.js';

type Kind =
  | 'string'
  | 'secret'
  | 'boolean'
  | 'duration'
  | 'since'
  | 'int'
  | 'list'
  | 'forward'
  | 'region'
  | 'url'
  | 'path'
  | 'file'
  | 'level'
  | 'tag';

/** The option groups, in --help order; each has its validator (../config.ts: VALIDATORS). */
export const GROUPS = ['JumpCloud API', 'Fluent Bit', 'Collection', 'Operation', 'Testing'] as const;
export type Group = (typeof GROUPS)[number];

export interface OptionSpec {
  /** Flag without dashes and config-file key (`api-url`). */
  readonly name: string;
  readonly kind: Kind;
  /** Its --help section, and the validator that reads it. */
  readonly group: Group;
  readonly env?: string;
  /** Secrets can also come from a file: `--NAME-file`, `ENV_FILE`, file key `NAME-file`. */
  readonly fileVariant?: boolean;
  /** Default as text, parsed like any input. */
  readonly default?: string;
  /** How the default is shown when it is not a plain value. */
  readonly defaultText?: string;
  readonly metavar?: string;
  readonly description: string;
  readonly min?: number;
  readonly max?: number;
  /** Not a config-file key (help, version, config, print-config). */
  readonly cliOnly?: boolean;
  /** Set only through the environment (testing hooks); no flag. */
  readonly envOnly?: boolean;
}

export type SourceKind = 'flag' | 'env' | 'file' | 'default';
export interface Source {
  readonly kind: SourceKind;
  /** `--lag`, `JUMPCLOUD_LAG`, `key "lag" of /etc/x.json`, `default`. */
  readonly label: string;
}

export class ConfigError extends JumpCloudError {
  static override readonly code: string = 'CONFIG_INVALID';
  override readonly fatal = true;
  /** The option name (`lag`), or undefined for argv-level problems. */
  readonly setting: string | undefined;
  readonly source: Source | undefined;
  constructor(message: string, setting?: string, source?: Source) {
    super(message);
    this.setting = setting;
    this.source = source;
  }
}

export function invalid(opt: OptionSpec, src: Source, what: string): ConfigError {
  const where =
    src.kind === 'default'
      ? 'default'
      : `from ${src.kind === 'flag' ? 'flag' : src.kind === 'env' ? 'env' : 'config file'} ${src.label}`;
  return new ConfigError(`invalid --${opt.name} (${where}): ${what}`, opt.name, src);
}

/** A file system error as a reader understands it: `ENOENT (no such file)`. */
export function errCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const reason =
    e.code === 'ENOENT'
      ? 'no such file'
      : e.code === 'EACCES'
        ? 'permission denied'
        : e.code === 'EISDIR'
          ? 'is a directory'
          : e.message;
  return e.code ? `${e.code} (${reason})` : reason;
}
