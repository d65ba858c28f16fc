// The demo's --scenario: where the scenario is placed (it ends as the demo starts, so its events arrive with the
// first backfill pages, and none before --since), what the demo says about it, and how its documents are marked.
import type { Scenario, ScenarioEvent } from '../simulator/scenario/events.js';
import type { ScenarioRun } from '../simulator/server.js';

/** How long the scenario lasts: from its start to its last event. */
export function scenarioSpan(s: Scenario): number {
  return Math.max(0, ...s.steps.map((step) => step.at + (step.repeat - 1) * step.every));
}

/** Its start: ending one second before `now`, but not before `sinceMs` (what is later arrives live). */
export function scenarioStart(s: Scenario, now: number, sinceMs: number): number {
  return Math.max(sinceMs, now - scenarioSpan(s) - 1_000);
}

/** The simulator's run of the scenario: in the demo's (first) org, ending as the demo starts. */
export function scenarioRun(s: Scenario, orgId: string, now: number, sinceMs: number): ScenarioRun {
  return { scenario: s, orgId, start: scenarioStart(s, now, sinceMs) };
}

/** The notes the demo prints: what the scenario is and its events, one line each (at most 30). */
export function scenarioNotes(s: Scenario, file: string, events: readonly ScenarioEvent[]): string {
  const lines = events.slice(0, 30).map((e) => {
    const o = JSON.parse(e.event) as Record<string, unknown>;
    const by = o.initiated_by as Record<string, unknown> | undefined;
    const who = String(by?.email ?? by?.username ?? (o.username as string | undefined) ?? '-');
    const outcome = o.success === false ? 'failure' : o.success === true ? 'success' : '';
    const ip = String(o.client_ip ?? '-');
    return `  ${String(o.timestamp)}  ${String(o.event_type).padEnd(28)} ${who.padEnd(34)} ${ip.padEnd(16)} ${outcome}`;
  });
  const more = events.length > 30 ? [`  … and ${events.length - 30} more`] : [];
  return [
    `Scenario ${s.name} (${file}): ${s.description.trim()}`,
    `Its ${events.length} events are among the simulator's, each marked ★ ${s.name} below when mapped:`,
    ...lines,
    ...more,
    '',
  ].join('\n');
}

/** Marks the documents of the scenario's events (found by their event ids). */
export function scenarioMark(s: Scenario, events: readonly ScenarioEvent[]): (docText: string) => string | undefined {
  const ids = events.map((e) => (JSON.parse(e.event) as { id: string }).id);
  const mark = `★ ${s.name}`;
  return (docText) => (ids.some((id) => docText.includes(`"${id}"`)) ? mark : undefined);
}
