// Reads the add-on's .conf files as Splunk does (its .conf file format: `[stanza]` headers, `key = value`, `#`
// comments, a trailing backslash continuing a value on the next line), and strictly: anything Splunk and
// addonfactory-splunk-conf-parser-lib (Splunk's Python reader, run by conf-parse.test.ts) could read differently
// is an error: a key outside a stanza, a key twice in a stanza, an indented line that is not a continuation, a
// `;` after a space (the Python reader cuts a comment there, Splunk does not).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADDON_DIR = fileURLToPath(new URL('../../../splunk/TA-jumpcloud-directory-insights/', import.meta.url));
export const ADDON_NAME = 'TA-jumpcloud-directory-insights';

export type Stanza = Readonly<Record<string, string>>;
export type Conf = Readonly<Record<string, Stanza>>;

/** Parses one .conf text (`name` names it in errors); continued lines join with "\n" as the Python reader's do. */
export function parseConf(text: string, name: string): Conf {
  const out: Record<string, Record<string, string>> = {};
  let stanza: Record<string, string> | undefined;
  let pending: { key: string; parts: string[] } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const where = `${name}:${i + 1}`;
    const raw = lines[i]!.replace(/\r$/, '');
    if (pending) {
      const cont = raw.trim();
      const more = cont.endsWith('\\');
      pending.parts.push(more ? cont.replace(/\s*\\$/, '') : cont);
      if (!more) {
        stanza![pending.key] = pending.parts.filter((p) => p !== '').join('\n');
        pending = undefined;
      }
      continue;
    }
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    if (/^\s/.test(raw))
      throw new Error(`${where}: an indented line that does not continue a value (end the line before with \\)`);
    const header = /^\[(.*)\]\s*$/.exec(raw);
    if (header) {
      stanza = out[header[1]!] ??= {};
      continue;
    }
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new Error(`${where}: not a [stanza], a key = value, or a # comment: ${raw}`);
    if (!stanza) throw new Error(`${where}: ${raw.slice(0, eq).trim()} is outside any [stanza]`);
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (key in stanza) throw new Error(`${where}: ${key} is set twice in its stanza`);
    if (/\s;/.test(value))
      throw new Error(`${where}: a ";" after a space is a comment to Splunk's Python reader: rephrase`);
    if (value.endsWith('\\')) pending = { key, parts: [value.replace(/\s*\\$/, '')] };
    else stanza[key] = value;
  }
  if (pending) throw new Error(`${name}: the last value ends with a continuation \\`);
  return out;
}

/** default/<name>.conf of the add-on, or undefined when it does not exist. */
export function readAddonConf(name: string, dir = ADDON_DIR): Conf | undefined {
  const path = join(dir, 'default', `${name}.conf`);
  return existsSync(path) ? parseConf(readFileSync(path, 'utf8'), `default/${name}.conf`) : undefined;
}

/** Every .conf and .meta file of the add-on, relative to it, sorted. */
export function confFiles(dir = ADDON_DIR): string[] {
  const found: string[] = [];
  for (const sub of ['default', 'metadata']) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (/\.(conf|meta)$/.test(f)) found.push(`${sub}/${f}`);
  }
  return found;
}
