// Where values come from: flags > environment > config file (--config FILE, JSON) > default, with the *_FILE
// variants of secrets. `readSettings` resolves them for the options table; each group's validator reads its own
// options through a `Settings` view.
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ArgvError, closest, parseArgv, type FlagValue } from '../argv.js';
import { ConfigError, errCode, invalid, type Group, type OptionSpec, type Source, type SourceKind } from './spec.js';
import { readSecretFile, toText, type Raw, type RawValue } from './values.js';

/** What a group's validator reads its options through; reading another group's option is a bug and throws. */
export interface Settings {
  readonly cwd: string;
  /** Epoch ms, for --since. */
  readonly now: number;
  /** Warnings for the log; validators add theirs in order. */
  readonly warnings: string[];
  opt(name: string): OptionSpec;
  /** The winning raw value, if any (its source is recorded). */
  get(name: string): Raw | undefined;
  /** The raw value of an option that has a default. */
  req(name: string): Raw;
  /** The trimmed text value, if set; an empty one is an error. */
  text(name: string): string | undefined;
  /** The value of an envOnly option (testing hooks), not recorded as a source. */
  envOnly(name: string): string | undefined;
}

export interface ResolvedSettings {
  readonly kind: 'settings';
  readonly configFile: string | undefined;
  readonly sources: Record<string, SourceKind>;
  readonly warnings: string[];
  /** The view for one group's validator. */
  forGroup(group: Group): Settings;
}

export interface SettingsInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: number;
  readonly cwd: string;
}

/** Parses argv and the config file; `help` / `version` when asked for (nothing else is read then). */
export function readSettings(
  options: readonly OptionSpec[],
  input: SettingsInput,
): ResolvedSettings | { readonly kind: 'help' } | { readonly kind: 'version' } {
  const byName = new Map(options.map((o) => [o.name, o]));
  const flags = parseFlags(options, byName, input.argv);
  if (flags === 'help' || flags === 'version') return { kind: flags };
  const from = new Sources(options, byName, flags, input);
  return {
    kind: 'settings',
    configFile: from.configFile,
    sources: from.kinds,
    warnings: from.warnings,
    forGroup: (group) => from.forGroup(group),
  };
}

type Flags = ReadonlyMap<string, readonly FlagValue[]>;

/** The flags by name (repeated ones in order); `help` / `version` when asked for. */
function parseFlags(
  options: readonly OptionSpec[],
  byName: ReadonlyMap<string, OptionSpec>,
  argv: readonly string[],
): Flags | 'help' | 'version' {
  const flagNames = [
    ...options.filter((o) => !o.envOnly).map((o) => o.name),
    ...options.filter((o) => o.fileVariant).map((o) => `${o.name}-file`),
  ];
  const describeFlag = (name: string): 'value' | 'boolean' | undefined => {
    const opt = byName.get(name);
    if (opt && !opt.envOnly) return opt.kind === 'boolean' ? 'boolean' : 'value';
    if (name.endsWith('-file') && byName.get(name.slice(0, -5))?.fileVariant) return 'value';
    return undefined;
  };
  let parsed;
  try {
    parsed = parseArgv(argv, describeFlag, (n) => closest(n, flagNames));
  } catch (err) {
    if (err instanceof ArgvError) throw new ConfigError(err.message);
    throw err;
  }
  if (parsed.positionals.length > 0) {
    throw new ConfigError(
      `unexpected argument "${parsed.positionals[0]}": options start with -- (see --help); the only subcommand is ` +
        '"simulate"',
    );
  }
  const flags = new Map<string, FlagValue[]>();
  for (const f of parsed.flags) flags.set(f.name, [...(flags.get(f.name) ?? []), f]);
  const last = (name: string): FlagValue | undefined => flags.get(name)?.at(-1);
  if (last('help') && last('help')!.value !== 'false') return 'help';
  if (last('version') && last('version')!.value !== 'false') return 'version';
  return flags;
}

/** A secret's `*_FILE` variant: the path to read it from, and where that path came from. */
type ViaFile = { readonly path: string; readonly source: Source };

/** Every option's winning raw value, honouring flag > env > file > default and the *_FILE variants. */
class Sources {
  readonly configFile: string | undefined;
  readonly kinds: Record<string, SourceKind> = {};
  readonly warnings: string[] = [];
  private readonly file: Record<string, unknown> = {};

  constructor(
    options: readonly OptionSpec[],
    private readonly byName: ReadonlyMap<string, OptionSpec>,
    private readonly flags: Flags,
    private readonly input: SettingsInput,
  ) {
    // Config file first: its path itself is a flag or env setting.
    const cfgOpt = byName.get('config')!;
    const cfgFlag = this.flag('config');
    const cfgEnv = this.env(cfgOpt.env);
    const cfgSrc: Source | undefined = cfgFlag
      ? { kind: 'flag', label: '--config' }
      : cfgEnv
        ? { kind: 'env', label: cfgOpt.env! }
        : undefined;
    if (cfgSrc) {
      this.configFile = resolvePath(input.cwd, String(cfgFlag ? cfgFlag.value : cfgEnv));
      this.file = readConfigFile(options, this.configFile, cfgSrc);
    }
  }

  /** The view for one group's validator: reading another group's option is a bug and throws. */
  forGroup(group: Group): Settings {
    const opt = (name: string): OptionSpec => {
      const o = this.byName.get(name);
      if (!o || o.group !== group) {
        throw new Error(
          `the ${group} validator reads --${name}, which is not one of its options (see the options table)`,
        );
      }
      return o;
    };
    const get = (name: string): Raw | undefined => {
      const r = this.raw(opt(name));
      if (r) this.kinds[name] = r.source.kind;
      return r;
    };
    const { cwd, now } = this.input;
    return {
      cwd,
      now,
      warnings: this.warnings,
      opt,
      get,
      req: (name) => get(name)!,
      text: (name) => {
        const r = get(name);
        if (!r) return undefined;
        const t = toText(opt(name), r).trim();
        if (t === '') throw invalid(opt(name), r.source, 'is empty');
        return t;
      },
      envOnly: (name) => this.env(opt(name).env),
    };
  }

  private flag(name: string): FlagValue | undefined {
    return this.flags.get(name)?.at(-1);
  }

  private env(name: string | undefined): string | undefined {
    if (name === undefined) return undefined;
    const v = this.input.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  private raw(opt: OptionSpec): Raw | undefined {
    const fileName = `${opt.name}-file`;
    // Flags (repeated list flags accumulate; other flags: the last wins).
    const fl = this.flags.get(opt.name);
    const ff = opt.fileVariant ? this.flag(fileName) : undefined;
    if (fl || ff) {
      const value = fl && (opt.kind === 'list' ? fl.flatMap((f) => String(f.value).split(',')) : fl.at(-1)!.value);
      const direct: Raw | undefined = fl
        ? { value: value!, source: { kind: 'flag', label: `--${opt.name}` } }
        : undefined;
      const viaFile = ff
        ? { path: String(ff.value), source: { kind: 'flag' as const, label: `--${fileName}` } }
        : undefined;
      return this.pick(opt, direct, viaFile, `--${opt.name}`, `--${fileName}`);
    }
    const envFile = opt.env ? `${opt.env}_FILE` : undefined;
    const ev = this.env(opt.env);
    const ef = opt.fileVariant ? this.env(envFile) : undefined;
    if (ev !== undefined || ef !== undefined) {
      return this.pick(
        opt,
        ev !== undefined ? { value: ev, source: { kind: 'env', label: opt.env! } } : undefined,
        ef !== undefined ? { path: ef, source: { kind: 'env', label: envFile! } } : undefined,
        opt.env!,
        envFile!,
      );
    }
    const { file } = this;
    if (!opt.cliOnly && (opt.name in file || (opt.fileVariant && fileName in file)))
      return this.fromFile(opt, fileName);
    if (opt.default !== undefined) return { value: opt.default, source: { kind: 'default', label: 'default' } };
    return undefined;
  }

  /** The option from the config file: its key, or its `-file` key. */
  private fromFile(opt: OptionSpec, fileName: string): Raw | undefined {
    const { file } = this;
    const configFile = this.configFile!;
    const source = (key: string): Source => ({ kind: 'file', label: `key "${key}" of ${configFile}` });
    const fv =
      opt.name in file
        ? { value: fileValue(opt, opt.name, file[opt.name], configFile), source: source(opt.name) }
        : undefined;
    const fp =
      opt.fileVariant && fileName in file
        ? { path: String(fileValue(opt, fileName, file[fileName], configFile)), source: source(fileName) }
        : undefined;
    return this.pick(opt, fv, fp, `"${opt.name}"`, `"${fileName}"`);
  }

  /** The value given directly or through its *_FILE variant (both: an error naming the two). */
  private pick(
    opt: OptionSpec,
    direct: Raw | undefined,
    viaFile: ViaFile | undefined,
    a: string,
    b: string,
  ): Raw | undefined {
    if (direct && viaFile) {
      throw new ConfigError(`both ${a} and ${b} are set: give the ${opt.name} one way only`, opt.name, direct.source);
    }
    if (viaFile) {
      return {
        value: readSecretFile(opt, viaFile.path, viaFile.source, this.input.cwd),
        source: viaFile.source,
        fromFile: viaFile.path,
      };
    }
    return direct;
  }
}

function readConfigFile(options: readonly OptionSpec[], path: string, src: Source): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${path} (from ${src.kind} ${src.label}): ${errCode(err)}`,
      'config',
      src,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, 'config', src);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(
      `config file ${path} must hold a JSON object of option names to values, e.g. {"services": ["sso"]}`,
      'config',
      src,
    );
  }
  const fileKeys = options
    .filter((o) => !o.cliOnly)
    .map((o) => o.name)
    .concat(options.filter((o) => o.fileVariant).map((o) => `${o.name}-file`));
  for (const key of Object.keys(data)) {
    if (!fileKeys.includes(key)) {
      const hint = closest(key, fileKeys);
      throw new ConfigError(
        `config file ${path}: unknown key "${key}"${hint ? `: did you mean "${hint}"?` : ''} (keys are the option ` +
          `names of --help without dashes)`,
        'config',
        src,
      );
    }
  }
  return data as Record<string, unknown>;
}

function fileValue(opt: OptionSpec, key: string, value: unknown, path: string): RawValue {
  const src: Source = { kind: 'file', label: `key "${key}" of ${path}` };
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' && opt.kind === 'boolean') return value;
  if (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    opt.kind !== 'secret' &&
    opt.kind !== 'list' &&
    opt.kind !== 'boolean'
  )
    return String(value);
  if (Array.isArray(value) && opt.kind === 'list' && value.every((v) => typeof v === 'string'))
    return value as string[];
  const expected =
    opt.kind === 'list'
      ? 'a list of strings or a comma-separated string'
      : opt.kind === 'boolean'
        ? 'true or false'
        : opt.kind === 'int'
          ? 'a number'
          : 'a string';
  throw invalid(opt, src, `expected ${expected}, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}
