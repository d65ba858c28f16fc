// `npm run bench -- --markdown FILE` writes each benchmark's figures into its own section of FILE: the section is
// replaced and nothing else, and the figures carry the machine, the date, the load and the command.
import { describe, expect, it } from 'vitest';
import {
  type BenchMachine,
  INSTRUCTION_RUNS,
  renderFigures,
  renderSection,
  replaceSection,
  slug,
} from '../../bench/markdown.js';

const machine: BenchMachine = {
  date: '2026-12-07 23:40 UTC',
  cpu: 'AMD EPYC',
  cores: 2,
  memoryGiB: 24,
  os: 'Linux 6.1 x64',
  node: 'v20.19.0',
  loadBefore: [2.5, 2.1, 1.9],
  loadAfter: [3, 2.2, 2],
  fluentBit: 'Fluent Bit v5.1.1',
  command: 'FLUENT_BIT_BIN=/path/to/fluent-bit npm run bench -- filter',
};

describe('bench markdown sections', () => {
  const doc = [
    '# Performance',
    '<!-- bench:filter -->',
    'old filter figures',
    '<!-- /bench:filter -->',
    'prose between',
    '<!-- bench:collector -->',
    'old collector figures',
    '<!-- /bench:collector -->',
    '',
  ].join('\n');

  it('replaces only the named section, markers kept', () => {
    const out = replaceSection(doc, 'collector', 'new figures');
    expect(out).toContain('<!-- bench:collector -->\nnew figures\n<!-- /bench:collector -->');
    expect(out).not.toContain('old collector figures');
    expect(out).toContain('old filter figures');
    expect(out).toContain('prose between');
    expect(replaceSection(out, 'collector', 'new figures')).toBe(out);
  });

  it('appends a section the page does not have yet', () => {
    const out = replaceSection(doc, 'scale', 'scale figures');
    expect(out.endsWith('<!-- bench:scale -->\nscale figures\n<!-- /bench:scale -->\n')).toBe(true);
    expect(out.startsWith(doc.trimEnd())).toBe(true);
  });

  it('refuses markers out of order or repeated', () => {
    expect(() => replaceSection('<!-- /bench:x -->\n<!-- bench:x -->', 'x', 'y')).toThrow(/once, in this order/);
    expect(() => replaceSection(`${doc}<!-- bench:filter -->`, 'filter', 'y')).toThrow(/once, in this order/);
    expect(() => replaceSection('<!-- bench:x -->', 'x', 'y')).toThrow(/once, in this order/);
  });

  it('states the machine, the date, the load and the command', () => {
    const text = renderSection(
      { id: 'forward', stdout: '', results: { forward_encode_events_per_s: 812345 } },
      machine,
    );
    expect(text).toContain('2026-12-07 23:40 UTC on AMD EPYC (2 cores, 24 GiB, Linux 6.1 x64), Node v20.19.0');
    expect(text).toContain('Fluent Bit v5.1.1');
    expect(text).toContain('load average (1, 5, 15 min) 2.50, 2.10, 1.90 before, 3.00, 2.20, 2.00 after');
    expect(text).toContain('Reproduce: `FLUENT_BIT_BIN=/path/to/fluent-bit npm run bench -- filter`.');
    expect(text).toContain('| encoding alone, events/s | 812,345 |');
  });

  it('renders the filter figures as tables of both record mixes, ratios computed from the values', () => {
    const r: Record<string, number> = {
      harness_seed_identity_rps: 200_000,
      harness_seed_ecs_rps: 100_000,
      harness_seed_elastic_rps: 50_000,
      'harness_2.9KB_identity_rps': 150_000,
      'harness_2.9KB_ecs_rps': 75_000,
      'harness_2.9KB_elastic_rps': 30_000,
      memory_after_10k_bytes: 524288,
      memory_after_2m_bytes: 524288,
    };
    const text = renderFigures({ id: 'filter', stdout: '', results: r });
    expect(text).toContain('| `jumpcloud_ecs`, records/s (time × identity) | 100,000 (2.00×) | 75,000 (2.00×) |');
    expect(text).toContain('| `jumpcloud_elastic`, records/s (time × identity) | 50,000 (4.00×) | 30,000 (5.00×) |');
    expect(text).toContain('after 2,000,000 more: 524,288 bytes');
    expect(text).toContain('Inside Fluent Bit: not measured (no FLUENT_BIT_BIN).');
  });

  it('renders instruction counts against the Lua peer, and where they go', () => {
    const r: Record<string, number> = {};
    for (const [i, run] of INSTRUCTION_RUNS.slice(0, 6).entries()) {
      r[`fb_seed_${slug(run)}_kinstr`] = 100 * (i + 1);
      r[`fb_2.9KB_${slug(run)}_kinstr`] = 200 * (i + 1);
    }
    r[`fb_seed_${slug('jumpcloud_ecs')}_kinstr_in_wasm_runtime_call_wasm`] = 185.4;
    r[`fb_2.9KB_${slug('jumpcloud_ecs')}_kinstr_in_wasm_runtime_call_wasm`] = 285;
    const text = renderFigures({ id: 'filter-instructions', stdout: '', results: r });
    expect(text).toContain('| `jumpcloud_ecs`, interpreted | 500.0 (1.25× Lua) | 1,000.0 (1.25× Lua) |');
    expect(text).toContain('| Lua peer (parser + lua) | 400.0 (1.00× Lua) | 800.0 (1.00× Lua) |');
    expect(text).not.toContain(', AOT |');
    expect(text).toContain('AOT-compiled filter: not measured (no wamrc).');
    expect(text).toMatch(/\| the module \(interpreted or AOT\) \(`wasm_runtime_call_wasm`\) \|[^\n]*185\.4 \/ 285\.0/);
  });

  it('shows what a benchmark printed when it returns no numbers', () => {
    expect(renderFigures({ id: 'di', stdout: 'page: 10000 events\n' })).toBe('```text\npage: 10000 events\n```');
  });

  it('sets the live runs of the scale benchmark side by side, with the targets each met or missed', () => {
    const run = (key: string, first: number, catchUp: number, met: readonly number[]): Record<string, number> => ({
      [`live_${key}_streams`]: 3000,
      [`live_${key}_first_event_s`]: first,
      [`live_${key}_catch_up_s`]: catchUp,
      [`live_${key}_target_first_event_le_30s`]: met[0]!,
      [`live_${key}_target_catch_up_le_120s`]: met[1]!,
    });
    const md = renderFigures({
      id: 'scale',
      stdout: '',
      results: { ...run('1000x100', 4.2, 61, [1, 1]), ...run('1000x1', 250.5, -1, [0, 0]), backfill_2x2d_events: 7 },
    });
    const lines = md.split('\n');
    expect(lines[0]).toBe(
      '| live, 3 services per org, 240 s | 1,000 orgs, batches of 100 | 1,000 orgs, one org per request |',
    );
    expect(lines).toContain('| first event forwarded, s after the start (target ≤ 30) | 4.2 | 250.5 |');
    expect(lines).toContain('| every org caught up from --since 2h, s (target ≤ 120) | 61 | not within the run |');
    expect(lines).toContain('| targets met | 2 of 2 | 0 of 2 (missed: first event, catch up) |');
    expect(lines).toContain('| backfill, 2 services × 2 days: events | 7 |');
  });
});
