// `npm run bench -- --markdown FILE`: each benchmark's figures as a Markdown section of FILE (docs/performance.md),
// between `<!-- bench:ID -->` and `<!-- /bench:ID -->`, with the machine, the date, the load and the command that
// reproduces them. A section is replaced when its benchmark ran and succeeded; the rest of FILE is left as it is.
// Pure functions: the bench runner (index.ts) gathers the results and the machine, this file only writes text.

/** One benchmark's outcome: the numbers its run() returned (if any) and what it printed. */
export interface BenchOutcome {
  readonly id: string;
  readonly results?: Record<string, number>;
  readonly stdout: string;
}

/** Where and when it ran, and how to run it again. */
export interface BenchMachine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly fluentBit?: string;
  readonly command: string;
}

/** The key filter.bench.ts stores a run under: its name in lower case, anything but letters and digits as `_`. */
export const slug = (name: string): string => name.replace(/[^a-z0-9]+/gi, '_').toLowerCase();

/** The runs of the instruction count, in the order of the table (filter.bench.ts runs the same list). */
export const INSTRUCTION_RUNS = [
  'no filter',
  'identity wasm',
  'identity + one 8-byte-step pass',
  'Lua peer (parser + lua)',
  'jumpcloud_ecs',
  'jumpcloud_elastic',
  'jumpcloud_ecs AOT',
  'jumpcloud_elastic AOT',
] as const;

/** Where a record's instructions go: the functions counted inclusively, and what they are. */
export const ATTRIBUTION: readonly (readonly [string, string])[] = [
  ['flb_msgpack_to_json_str', 'record → JSON text for the module'],
  ['wasm_runtime_call_wasm', 'the module (interpreted or AOT)'],
  ['wasm_runtime_validate_app_str_addr', 'its result checked'],
  ['flb_pack_json', 'its result → msgpack'],
  ['cb_parser_filter', '`parser` filter on `message`'],
  ['flb_lua_pushmsgpack', 'record → Lua tables'],
  ['lua_pcall', 'the Lua mapping (LuaJIT)'],
  ['flb_lua_tomsgpack', 'result from Lua → msgpack'],
];

const MIXES = [
  ['seed', 'seed records'],
  ['2.9KB', '2.9 KB records'],
] as const;

const num = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v)
    ? '–'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

const fence = (text: string): string => ['```text', text.trimEnd(), '```'].join('\n');

function filterTime(r: Record<string, number>): string {
  const harness = table(
    ['harness (Node, same module, ABI of the wasm filter)', 'seed records', '2.9 KB records'],
    [
      ['identity filter, records/s', ...MIXES.map(([m]) => num(r[`harness_${m}_identity_rps`]))],
      ...(['ecs', 'elastic'] as const).map((p) => [
        `\`jumpcloud_${p}\`, records/s (time × identity)`,
        ...MIXES.map(([m]) => {
          const rate = r[`harness_${m}_${p}_rps`]!;
          return `${num(rate)} (${num(r[`harness_${m}_identity_rps`]! / rate, 2)}×)`;
        }),
      ]),
    ],
  );
  const memory =
    `Linear memory after 10,000 calls: ${num(r.memory_after_10k_bytes)} bytes; ` +
    `after 2,000,000 more: ${num(r.memory_after_2m_bytes)} bytes.`;
  if (r.fb_seed_none_us === undefined)
    return `${harness}\n\n${memory}\n\nInside Fluent Bit: not measured (no FLUENT_BIT_BIN).`;
  const us = (m: string, k: string): string => num(r[`fb_${m}_${k}_us`], 1);
  const vs = (m: string, k: string): string =>
    `${us(m, k)} (${num(r[`fb_${m}_${k}_over_identity`], 2)}× identity, ${num(r[`fb_${m}_${k}_over_lua`], 2)}× Lua)`;
  const rows: string[][] = [
    ['no filter', ...MIXES.map(([m]) => us(m, 'none'))],
    ['identity wasm filter', ...MIXES.map(([m]) => us(m, 'identity'))],
    ['identity + one 8-byte-step pass over the record', ...MIXES.map(([m]) => us(m, 'one_pass'))],
    ['Lua peer (`parser` + `lua` filters)', ...MIXES.map(([m]) => us(m, 'lua_peer'))],
    ['`jumpcloud_ecs`, interpreted', ...MIXES.map(([m]) => vs(m, 'ecs'))],
    ['`jumpcloud_elastic`, interpreted', ...MIXES.map(([m]) => vs(m, 'elastic'))],
  ];
  if (r.fb_seed_ecs_aot_us !== undefined)
    rows.push(
      ['identity filter, AOT', ...MIXES.map(([m]) => us(m, 'identity_aot'))],
      ['`jumpcloud_ecs`, AOT', ...MIXES.map(([m]) => vs(m, 'ecs_aot'))],
      ['`jumpcloud_elastic`, AOT', ...MIXES.map(([m]) => vs(m, 'elastic_aot'))],
    );
  else rows.push(['AOT-compiled filter', 'not measured (no wamrc)', '']);
  const inside = table(['inside Fluent Bit, CPU µs per record', 'seed records', '2.9 KB records'], rows);
  return `${harness}\n\n${memory}\n\n${inside}`;
}

function filterInstructions(r: Record<string, number>): string {
  const key = (m: string, run: string): string => `fb_${m}_${slug(run)}_kinstr`;
  const ran = INSTRUCTION_RUNS.filter((run) => r[key('seed', run)] !== undefined);
  const lua = (m: string): number => r[key(m, 'Lua peer (parser + lua)')]!;
  const totals = table(
    ['k instructions per record', ...MIXES.map(([, label]) => label)],
    ran.map((run) => [
      run.startsWith('jumpcloud') ? `\`${run.split(' ')[0]}\`${run.endsWith('AOT') ? ', AOT' : ', interpreted'}` : run,
      ...MIXES.map(([m]) => `${num(r[key(m, run)], 1)} (${num(r[key(m, run)]! / lua(m), 2)}× Lua)`),
    ]),
  );
  const shown = ran.filter((run) => !run.endsWith('AOT') && run !== 'no filter' && !run.includes('8-byte'));
  const parts = table(
    ['k instructions per record (seed / 2.9 KB)', ...shown],
    ATTRIBUTION.filter(([f]) => shown.some((run) => r[`${key('seed', run)}_in_${f}`] !== undefined)).map(
      ([f, what]) => [
        `${what} (\`${f}\`)`,
        ...shown.map((run) => {
          const v = MIXES.map(([m]) => r[`${key(m, run)}_in_${f}`]);
          return v[0] === undefined ? '' : `${num(v[0], 1)} / ${num(v[1], 1)}`;
        }),
      ],
    ),
  );
  const aot = ran.some((run) => run.endsWith('AOT')) ? '' : '\n\nAOT-compiled filter: not measured (no wamrc).';
  return `${totals}${aot}\n\nWhere they go (callgrind's inclusive counts of these functions):\n\n${parts}`;
}

function collector(r: Record<string, number>): string {
  const rows: string[][] = [];
  if (r.collector_events_per_s !== undefined)
    rows.push(
      ['events/s, simulator → collector → forward receiver', num(r.collector_events_per_s)],
      ['collector peak RSS, same run', `${num(r.collector_peak_rss_mb)} MB`],
    );
  for (const n of [1, 2, 4, 8])
    if (r[`backfill_${n}_slices_s`] !== undefined)
      rows.push([
        `backfill with ${n} slice${n > 1 ? 's' : ''}: time (speed-up over 1)`,
        `${num(r[`backfill_${n}_slices_s`], 2)} s (${num(r[`backfill_${n}_slices_speedup`], 2)}×)`,
      ]);
  const engine = r.collector_engine_compiled ? 'the compiled collector (dist/)' : 'the TypeScript source (tsx)';
  return `${table(['measure', 'result'], rows)}\n\nThe collector ran as ${engine}.`;
}

const OVERLAP_MODES = [
  ['rescan', 're-fetch the whole overlap'],
  ['counts_no_search_term', 'by counts, one query per differing range (API without `search_term`)'],
  ['counts', 'by counts, one `search_term` query'],
] as const;

function overlap(r: Record<string, number>): string {
  const rates = [...new Set(Object.keys(r).map((k) => /^overlap_([\d.]+)_per_s_/.exec(k)?.[1]))].filter(
    (x): x is string => x !== undefined,
  );
  const rows = rates.flatMap((rate) =>
    OVERLAP_MODES.filter(([m]) => r[`overlap_${rate}_per_s_${m}_polls`] !== undefined).map(([m, label]) => {
      const k = `overlap_${rate}_per_s_${m}`;
      return [
        rate,
        label,
        num(r[`${k}_downloaded_per_forwarded`], 3),
        num(r[`${k}_requests_per_poll_per_stream`], 2),
        num(r[`${k}_forwarded`]),
        num(r[`${k}_missing`]),
      ];
    }),
  );
  return table(
    [
      'events/s per stream',
      'mode',
      'downloaded per forwarded',
      'API requests per poll per stream',
      'forwarded',
      'missing',
    ],
    rows,
  );
}

const LABELS: Record<string, Record<string, string>> = {
  forward: {
    forward_encode_events_per_s: 'encoding alone, events/s',
    forward_encode_MB_per_s: 'encoding alone, MB/s',
    forward_send_ack_events_per_s: 'encode + send + ack over TCP into the receiver, events/s',
    forward_send_ack_MB_per_s: 'the same, MB/s',
    forward_client_cpu_us_per_event: 'client CPU per event, µs',
  },
  scale: {
    collector_engine_compiled: 'the compiled collector (dist/): 1 yes, 0 the TypeScript source',
    backfill_2x2d_events: 'backfill, 2 services × 2 days: events',
    backfill_2x2d_events_per_s: 'backfill: events/s',
    backfill_2x2d_peak_rss_mb: 'backfill: collector peak RSS, MB',
  },
};

/** A live run's measures (scale.bench.ts, keys `live_<orgs>x<batch>_<measure>`), in the order of the table. */
const LIVE_MEASURES: readonly (readonly [string, string])[] = [
  ['streams', 'streams (orgs × services)'],
  ['first_event_s', 'first event forwarded, s after the start (target ≤ 30)'],
  ['catch_up_s', 'every org caught up from --since 2h, s (target ≤ 120)'],
  ['steady_max_lag_s', 'steady state: largest lag of any stream, s (target ≤ --lag + 2 × --interval = 180)'],
  ['steady_max_poll_gap_s', 'steady state: longest time between two polls of a stream, s'],
  ['steady_requests_per_batch_poll', 'steady state: DI requests per poll of a batch and service (target ≤ 3)'],
  ['requests_per_s_mean', 'DI requests/s, mean over the run (budget 10)'],
  ['peak_rss_mb', 'collector peak RSS, MB (target < 250)'],
  ['events_forwarded', 'events forwarded'],
  ['events_downloaded_per_forwarded', 'events downloaded per event forwarded'],
  ['429s', '429 answers'],
];

/** The live runs side by side, one column each, then the other figures as labelled rows. */
function scale(r: Record<string, number>): string {
  const runs = [...new Set(Object.keys(r).flatMap((k) => /^live_(\d+x\d+)_/.exec(k)?.[1] ?? []))];
  const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('live_')));
  if (runs.length === 0) return labelled('scale', rest);
  const head = runs.map((run) => {
    const [orgs, batch] = run.split('x').map(Number);
    return `${num(orgs)} orgs, ${batch === 1 ? 'one org per request' : `batches of ${num(batch)}`}`;
  });
  const cell = (v: number | undefined, digits: number): string => (v === -1 ? 'not within the run' : num(v, digits));
  const rows = LIVE_MEASURES.map(([key, label]) => [
    label,
    ...runs.map((run) => cell(r[`live_${run}_${key}`], Number.isInteger(r[`live_${run}_${key}`]) ? 0 : 1)),
  ]);
  const targets = [...new Set(Object.keys(r).flatMap((k) => /^live_\d+x\d+_(target_.+)$/.exec(k)?.[1] ?? []))];
  rows.push(['targets met', ...runs.map((run) => targetsMet(r, run, targets))]);
  return [table(['live, 3 services per org, 240 s', ...head], rows), '', labelled('scale', rest)].join('\n');
}

/** `5 of 5`, or the targets missed: `3 of 5 (catch-up, lag)`. */
function targetsMet(r: Record<string, number>, run: string, targets: readonly string[]): string {
  const missed = targets.filter((t) => r[`live_${run}_${t}`] !== 1);
  const names = missed.map((t) =>
    t
      .replace(/^target_/, '')
      .replace(/_(le|lt)_.*$/, '')
      .replace(/_/g, ' '),
  );
  const met = `${targets.length - missed.length} of ${targets.length}`;
  return names.length ? `${met} (missed: ${names.join(', ')})` : met;
}

function labelled(id: string, r: Record<string, number>): string {
  const labels = LABELS[id] ?? {};
  return table(
    ['measure', 'result'],
    Object.entries(r).map(([k, v]) => [labels[k] ?? `\`${k}\``, num(v, Number.isInteger(v) ? 0 : 2)]),
  );
}

/** The figures of one benchmark as Markdown: a table of its results, or what it printed when it returns none. */
export function renderFigures(o: BenchOutcome): string {
  const r = o.results;
  if (!r || Object.keys(r).length === 0) return fence(o.stdout);
  if (o.id === 'filter') return filterTime(r);
  if (o.id === 'filter-instructions') return filterInstructions(r);
  if (o.id === 'collector') return collector(r);
  if (o.id === 'overlap') return overlap(r);
  if (o.id === 'scale') return scale(r);
  return labelled(o.id, r);
}

const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(', ');

/** The line that says where, when and how: machine, date, load before and after, the command. */
export function renderMachine(m: BenchMachine): string {
  return (
    `Measured ${m.date} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}), Node ${m.node}` +
    (m.fluentBit ? `, ${m.fluentBit}` : '') +
    `; load average (1, 5, 15 min) ${load(m.loadBefore)} before, ${load(m.loadAfter)} after. ` +
    `Reproduce: \`${m.command}\`.`
  );
}

export function renderSection(o: BenchOutcome, m: BenchMachine): string {
  return `${renderMachine(m)}\n\n${renderFigures(o)}`;
}

/**
 * `doc` with the section `id` replaced by `body` (between its markers, which stay), or appended at the end when
 * the markers are absent. Markers out of order or repeated are refused: a hand-edited page must be fixed by hand.
 */
export function replaceSection(doc: string, id: string, body: string): string {
  const open = `<!-- bench:${id} -->`;
  const close = `<!-- /bench:${id} -->`;
  const count = (s: string): number => doc.split(s).length - 1;
  if (count(open) === 0 && count(close) === 0) return `${doc.trimEnd()}\n\n${open}\n${body.trimEnd()}\n${close}\n`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (count(open) !== 1 || count(close) !== 1 || end < start)
    throw new Error(`${open} and ${close} must each appear once, in this order`);
  return `${doc.slice(0, start + open.length)}\n${body.trimEnd()}\n${doc.slice(end)}`;
}
