// Value-based secret scrubbing for text that leaves the process (log lines, error messages). Path-based redaction
// (pino) only covers known keys; this also covers a secret that ended up inside a message string.

export const SCRUBBED = '[redacted]';

/** Returns a function replacing every occurrence of the given secrets (and their JSON-escaped forms) in a text. */
export function secretScrubber(secrets: readonly string[]): (text: string) => string {
  // Very short values would blank unrelated text; real keys and passwords are long. Longest first, so a secret
  // containing another is replaced whole.
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(SCRUBBED);
    return out;
  };
}
