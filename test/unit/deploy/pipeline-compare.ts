// Reading Fluent Bit's classic configuration and the shipped pipeline's settings, for the deploy tests that check a
// Kubernetes form of the pipeline (the Helm overlay's config.*, the Fluent Operator's resources) against the shipped
// fluent-bit.conf: same plugins, same options, same values, but for what the form must change (paths, addresses).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface Section {
  readonly name: string;
  /** Keys lower-cased (Fluent Bit's keys are case-insensitive), in order. */
  readonly entries: ReadonlyArray<readonly [string, string]>;
}

/** [SECTION] blocks with their `key value` lines; comments, blank lines and @INCLUDE/@SET lines skipped. */
export function parseClassic(text: string): Section[] {
  const out: Array<{ name: string; entries: Array<[string, string]> }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const head = /^\[([A-Za-z_]+)\]$/.exec(line);
    if (head) out.push({ name: head[1]!.toUpperCase(), entries: [] });
    else {
      const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m || out.length === 0) throw new Error(`not a classic configuration line: ${raw}`);
      out.at(-1)!.entries.push([m[1]!.toLowerCase(), (m[2] ?? '').trim()]);
    }
  }
  return out;
}

/** The entries of the one section `name` whose Name is `plugin` (SERVICE: the one section). */
export function section(sections: readonly Section[], name: string, plugin?: string): Map<string, string> {
  const hits = sections.filter(
    (s) => s.name === name && (plugin === undefined || s.entries.some(([k, v]) => k === 'name' && v === plugin)),
  );
  if (hits.length !== 1) throw new Error(`expected one [${name}]${plugin ? ` ${plugin}` : ''}, found ${hits.length}`);
  return new Map(hits[0]!.entries);
}

/** KEY=value lines of conf/jumpcloud.env. */
export function shippedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path.join(ROOT, 'conf/jumpcloud.env'), 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The shipped fluent-bit.conf's sections with conf/jumpcloud.env (and `overrides`) expanded; options whose value
 * expands to "" are dropped, as Fluent Bit drops them (the plugin default applies).
 */
export function shippedPipeline(overrides: Record<string, string> = {}): Section[] {
  const env = { ...shippedEnv(), ...overrides };
  const conf = readFileSync(path.join(ROOT, 'fluent-bit.conf'), 'utf8');
  const lines = conf.split('\n').filter((l) => !l.trim().startsWith('#'));
  const text = lines.join('\n').replace(/\$\{([A-Z0-9_]+)\}/g, (m, v) => {
    if (env[v as string] === undefined) throw new Error(`fluent-bit.conf uses ${m}, which conf/jumpcloud.env lacks`);
    return env[v as string]!;
  });
  return parseClassic(text).map((s) => ({ name: s.name, entries: s.entries.filter(([, v]) => v !== '') }));
}

/**
 * Differences between a form's section and the shipped one, but for `allowed` (key → the form's value, or
 * undefined: the form may leave the key out because the shipped value is the plugin's default).
 */
export function differences(
  form: ReadonlyMap<string, string>,
  shipped: ReadonlyMap<string, string>,
  allowed: Record<string, string | undefined> = {},
  extra: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const [k, v] of shipped) {
    if (k in allowed) {
      const want = allowed[k];
      if (form.get(k) !== want) out.push(`${k}: ${form.get(k)} (expected ${want ?? 'absent'})`);
    } else if (form.get(k)?.toLowerCase() !== v.toLowerCase()) out.push(`${k}: ${form.get(k)} (shipped ${v})`);
  }
  for (const k of form.keys()) if (!shipped.has(k) && !extra.includes(k)) out.push(`${k}: not in the shipped section`);
  return out;
}
