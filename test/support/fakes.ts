// Small in-memory fakes of the DI and forward clients for the engine's unit tests (the integration tests use
// the real simulator and forward receiver).
import { pageEventsOf } from '../../input/di/page-events.js';
import { isMessageBatch } from '../../input/forward/frames.js';
import { Utf8Bytes } from '../../input/forward/utf8-bytes.js';
import type {
  Clock,
  DiClient,
  DiPage,
  DiQuery,
  ForwardClient,
  ForwardEntry,
  Logger,
  MessageBatch,
  RawEvent,
} from '../../input/types.js';

/**
 * send()'s entries as ForwardEntry objects: a MessageBatch's entries as the equivalent `{time, record: {message:
 * Utf8Bytes}}` (views into its body, read when called: like a real client, at encode time).
 */
export function entryList(entries: readonly ForwardEntry[] | MessageBatch): readonly ForwardEntry[] {
  if (!isMessageBatch(entries)) return entries;
  const body = Buffer.from(entries.body.buffer, entries.body.byteOffset, entries.body.byteLength);
  return Array.from({ length: entries.length }, (_, i) => ({
    time: { sec: entries.sec[i]!, nsec: entries.nsec[i]! },
    record: { message: new Utf8Bytes(body.subarray(entries.start[i]!, entries.end[i]!)) },
  }));
}

export interface FakeEvent {
  readonly id: string;
  readonly timestamp: string;
  /** Visible to queries from this instant (ms) on: late indexing. */
  readonly visibleAt?: number;
  readonly orgId?: string;
  /** Its `organization` when not its org's id (an event a query of several orgs cannot route). */
  readonly organization?: string;
  readonly service?: string;
}

export class FakeDi implements DiClient {
  readonly queries: DiQuery[] = [];
  readonly counts: DiQuery[] = [];
  failWith: ((q: DiQuery) => Error | undefined) | undefined;
  /** Pages yielded, and per page whether release() was called (pages carry release() only when this is set). */
  pageReleases: { ids: string[]; released: boolean }[] | undefined;
  onRelease: ((ids: string[]) => void) | undefined;
  constructor(
    public events: FakeEvent[],
    private readonly clock: Clock,
    private readonly limit = 3,
  ) {}

  private matching(q: DiQuery): FakeEvent[] {
    const s = Date.parse(q.start),
      e = Date.parse(q.end),
      now = this.clock.now();
    return this.events
      .filter((ev) => {
        const t = Date.parse(ev.timestamp); // ms precision is enough for these fakes
        return (
          t >= s &&
          t <= e &&
          (ev.visibleAt ?? 0) <= now &&
          (q.service === 'all' || ev.service === undefined || ev.service === q.service) &&
          (q.orgIds?.length ? q.orgIds.includes(ev.orgId ?? '') : (ev.orgId ?? '') === '')
        );
      })
      .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || (a.id < b.id ? -1 : 1));
  }

  async *pages(q: DiQuery): AsyncIterable<DiPage> {
    this.queries.push(q);
    const err = this.failWith?.(q);
    if (err) throw err;
    const all = this.matching(q);
    for (let i = 0; ; i += this.limit) {
      const list: RawEvent[] = all.slice(i, i + this.limit).map((ev) => ({
        id: ev.id,
        timestamp: ev.timestamp,
        // An org's events carry it as `organization`, as the API's do (a query of several orgs routes by it).
        raw: Buffer.from(
          JSON.stringify({
            id: ev.id,
            timestamp: ev.timestamp,
            ...(ev.organization !== undefined || ev.orgId ? { organization: ev.organization ?? ev.orgId } : {}),
          }),
        ),
      }));
      const events = pageEventsOf(list);
      await Promise.resolve();
      const record = this.pageReleases ? { ids: list.map((e) => e.id), released: false } : undefined;
      if (record) this.pageReleases!.push(record);
      const release = record
        ? () => {
            record.released = true;
            this.onRelease?.(record.ids);
          }
        : undefined;
      yield {
        events,
        resultCount: events.length,
        limit: this.limit,
        searchAfter: String(i + this.limit),
        ...(release ? { release } : {}),
      };
      if (events.length < this.limit) return;
    }
  }

  async count(q: DiQuery): Promise<number> {
    this.counts.push(q);
    const s = Date.parse(q.start),
      e = Date.parse(q.end);
    // Half-open, like the simulator is expected to be: the engine accepts either reading.
    return this.matching({ ...q, end: q.end }).filter(
      (ev) => Date.parse(ev.timestamp) >= s && Date.parse(ev.timestamp) < e,
    ).length;
  }

  async close(): Promise<void> {}
}

export class FakeForward implements ForwardClient {
  readonly received: { tag: string; id: string; time: { sec: number; nsec: number } }[] = [];
  sends = 0;
  /** Ids of sends under way (not yet resolved or rejected). */
  readonly inFlight = new Set<string>();
  /** Reject the n-th send (1-based) with this error. */
  failAt: { n: number; error: Error } | undefined;
  async send(tag: string, batch: readonly ForwardEntry[] | MessageBatch): Promise<void> {
    this.sends++;
    const entries = entryList(batch);
    const ids = entries.map((e) => (JSON.parse(String(e.record.message)) as { id: string }).id);
    for (const id of ids) this.inFlight.add(id);
    try {
      await new Promise((r) => setTimeout(r, 0));
      if (this.failAt && this.sends >= this.failAt.n) throw this.failAt.error;
      for (const e of entries) {
        // Read the bytes again at "ack" time, as a real client may: they must still be the page's.
        const msg = JSON.parse(String(e.record.message)) as { id: string };
        this.received.push({ tag, id: msg.id, time: e.time });
      }
    } finally {
      for (const id of ids) this.inFlight.delete(id);
    }
  }
  async close(): Promise<boolean> {
    return true;
  }
  ids(): string[] {
    return this.received.map((r) => r.id);
  }
}

export function manualClock(start: number): Clock & { set(ms: number): void; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      now += ms;
      await new Promise((r) => setTimeout(r, 0));
      void signal;
    },
    set(ms: number) {
      now = ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

export interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
