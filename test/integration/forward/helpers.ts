// Shared helpers of the forward tests: DI-like events and entries of a given size.
import type { ForwardEntry } from '../../../input/types.js';

/** An event shaped like a DI event whose JSON text is about `size` bytes. */
export function makeEntries(
  count: number,
  opts: { size?: number; start?: number; prefix?: string } = {},
): ForwardEntry[] {
  const size = opts.size ?? 300;
  const start = opts.start ?? 0;
  const prefix = opts.prefix ?? 'e';
  const out: ForwardEntry[] = [];
  for (let i = 0; i < count; i++) {
    const n = start + i;
    const base = {
      id: `${prefix}${n.toString().padStart(10, '0')}`,
      timestamp: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.123456789Z`,
      service: 'directory',
      event_type: 'user_login',
      pad: '',
    };
    const text0 = JSON.stringify(base);
    base.pad = 'x'.repeat(Math.max(0, size - text0.length));
    out.push({
      time: { sec: 1_767_225_600 + n, nsec: (n * 7919) % 1_000_000_000 },
      record: { message: JSON.stringify(base) },
    });
  }
  return out;
}

export function idsOf(entries: readonly ForwardEntry[]): string[] {
  return entries.map((e) => (JSON.parse(String(e.record['message'])) as { id: string }).id);
}

/** Counts of each id: used to assert "every entry exactly once" with a precise diff on failure. */
export function countIds(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}
