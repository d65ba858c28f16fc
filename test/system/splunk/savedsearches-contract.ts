// What the add-on expects of default/savedsearches.conf, which the detections generator (pySigma's Splunk backend
// over detections/sigma/) writes into it: one stanza per rule, shipped disabled, scheduled no more than 12 times an
// hour, with its own search window, tracked as an alert, and nothing Splunk Cloud refuses. No [default] stanza:
// settings there would become the defaults of every app's saved searches.
import type { Conf } from './conf.js';

/** Settings a detection may use (savedsearches.conf.spec); others are reported so that a new one is a decision. */
const KNOWN = new Set([
  'search',
  'description',
  'disabled',
  'enableSched',
  'cron_schedule',
  'schedule_window',
  'schedule_priority',
  'dispatch.earliest_time',
  'dispatch.latest_time',
  'alert.track',
  'alert.severity',
  'alert.suppress',
  'alert.suppress.period',
  'alert.suppress.fields',
  'alert.digest_mode',
  'alert.expires',
  'counttype',
  'relation',
  'quantity',
  'alert_condition',
  'request.ui_dispatch_app',
  'request.ui_dispatch_view',
]);
const REQUIRED = [
  'search',
  'description',
  'disabled',
  'enableSched',
  'cron_schedule',
  'dispatch.earliest_time',
  'dispatch.latest_time',
  'alert.track',
  'alert.severity',
  'counttype',
  'relation',
  'quantity',
];
const SEARCH_START = /^(`jumpcloud_directory_insights`|sourcetype="jumpcloud:directory_insights")\s/;

/** Runs an hour of a cron minute field gives (AppInspect warns above 12), or undefined when it cannot say. */
function runsPerHour(minute: string): number | undefined {
  if (/^\d+$/.test(minute)) return 1;
  if (/^\d+(,\d+)+$/.test(minute)) return minute.split(',').length;
  const step = /^\*\/(\d+)$/.exec(minute);
  if (step) return Math.ceil(60 / Number(step[1]));
  return minute === '*' ? 60 : undefined;
}

/** What is wrong with a savedsearches.conf against the contract (empty: nothing). */
export function savedSearchProblems(conf: Conf): string[] {
  const out: string[] = [];
  const stanzas = Object.entries(conf);
  if (stanzas.length === 0) out.push('no saved search');
  for (const [name, s] of stanzas) {
    const at = `[${name}]`;
    if (name === 'default' || name === '') {
      out.push(`${at}: a global stanza sets every app's saved searches: set each stanza's own`);
      continue;
    }
    if (!/^JumpCloud - [^[\]]+$/.test(name)) out.push(`${at}: name it "JumpCloud - <rule title>", without brackets`);
    for (const k of REQUIRED) if (!s[k]) out.push(`${at}: ${k} is missing`);
    for (const k of Object.keys(s))
      if (!KNOWN.has(k))
        out.push(`${at}: ${k} is not a setting of the contract (savedsearches-contract.ts lists them)`);
    if (s.search && !SEARCH_START.test(s.search))
      out.push(
        `${at}: search must start with \`jumpcloud_directory_insights\` (or sourcetype="jumpcloud:directory_insights")`,
      );
    if (s.disabled !== undefined && !['1', 'true'].includes(s.disabled))
      out.push(`${at}: disabled = 1: detections ship off, an administrator turns them on`);
    if (s.enableSched !== undefined && !['1', 'true'].includes(s.enableSched)) out.push(`${at}: enableSched = 1`);
    const cron = s.cron_schedule?.split(/\s+/);
    if (cron && cron.length !== 5) out.push(`${at}: cron_schedule needs five fields`);
    else if (cron) {
      const n = runsPerHour(cron[0]!);
      if (n === undefined || n > 12)
        out.push(
          `${at}: cron_schedule ${s.cron_schedule} runs more than 12 times an hour, or its minute field is ` +
            'not one this check reads',
        );
    }
    for (const k of ['dispatch.earliest_time', 'dispatch.latest_time'])
      if (s[k]?.startsWith('rt')) out.push(`${at}: ${k} is real-time, which Splunk Cloud refuses`);
    if (s['alert.track'] !== undefined && s['alert.track'] !== '1') out.push(`${at}: alert.track = 1`);
    if (s['alert.severity'] !== undefined && !/^[1-6]$/.test(s['alert.severity']))
      out.push(`${at}: alert.severity is 1..6`);
  }
  return out;
}
