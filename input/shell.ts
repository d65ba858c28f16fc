// Commands the product prints are pasted into a shell: quote each word for POSIX sh, bare when it needs none.

/** `s` as one POSIX shell word. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
