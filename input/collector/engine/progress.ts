// Backfill progress over every stream at once: one bar redrawn on stderr when it is a TTY, otherwise a log line
// every few seconds. Measured in events: each backfill brings its event total (from the plan's /events/count),
// so the percentage is events acked over events known, and the ETA is the events left over a smoothed rate: it
// moves smoothly instead of jumping with bursts of acks or with a stream whose slices cover quiet hours (it
// changes at once only when the rate really changed, by more than 2×).
// Cheap: the streams report per acked send (thousands of events), never per event.
import type { Clock, Logger } from '../../types.js';
import { streamName, type SliceState, type StreamKey } from '../state/state.js';

export interface ProgressOptions {
  readonly logger: Logger;
  /** Where the bar goes; a non-TTY stream means log lines instead. */
  readonly out?: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown; columns?: number };
  /** Real-time interval between log lines (ms). */
  readonly logEveryMs?: number;
  /** Real time: the pace of the lines (run.ts gives the wall clock; tests a manual one). */
  readonly clock: Pick<Clock, 'now'>;
}

export interface ProgressSnapshot {
  /** Streams backfilling now, and those that finished since the board was last idle. */
  readonly active: number;
  readonly finished: number;
  readonly events: number;
  /** Events known to the backfills that joined (their /events/count totals). */
  readonly total: number;
  readonly fraction: number;
  /** Events per second, smoothed (undefined until a first second has passed). */
  readonly rate: number | undefined;
  readonly etaSeconds: number | undefined;
}

/** Fraction of a backfill's time span whose events are all acked (used when no event was counted). */
function coveredFraction(slices: readonly SliceState[]): number {
  let total = 0,
    done = 0;
  for (const s of slices) {
    total += s.end - s.start;
    done += s.done ? s.end - s.start : s.cursor - s.start;
  }
  return total > 0 ? Math.min(1, done / total) : 1;
}

/** One stream's part of the board. */
export interface BackfillTrack {
  /** `acked` more events of this backfill were acknowledged; `slices` is its current plan. */
  update(slices: readonly SliceState[], acked: number): void;
  /** The events left at join, once counted (a resumed backfill counts them while its slices already run). */
  setTotal(total: number): void;
  /** The backfill completed: its events count as all done. */
  finish(): void;
  /** The backfill stopped before its end (signal or failure): it leaves the board. */
  leave(): void;
}

interface Tracked {
  readonly name: string;
  total: number;
  done: number;
  slices: readonly SliceState[];
}

/** The rate is measured over this much of the recent past. */
const RATE_WINDOW_MS = 15_000;
/** No ETA before the backfills have run this long. */
const ETA_AFTER_MS = 5_000;
/** Time constant of the shown ETA's approach to the computed one. */
const ETA_SMOOTH_MS = 10_000;
/** TTY redraws at most this often. */
const DRAW_EVERY_MS = 200;

export class BackfillBoard {
  private readonly active = new Set<Tracked>();
  private readonly tty: boolean;
  private readonly now: () => number;
  private finished = 0;
  private finishedEvents = 0;
  private finishedTotal = 0;
  private startedAt = 0;
  private rate: number | undefined;
  private eta: number | undefined;
  private sampleAt = 0;
  private samples: { at: number; events: number }[] = [];
  private lastDraw = 0;
  private lineOpen = false;
  /** The stream's name while only one has joined since the board was idle. */
  private soleName: string | undefined;

  constructor(private readonly opts: ProgressOptions) {
    this.tty = opts.out?.isTTY === true;
    this.now = () => opts.clock.now();
  }

  /** A stream's backfill starts (or resumes) with `total` events left to fetch (undefined: not counted). */
  join(key: StreamKey, slices: readonly SliceState[], total: number | undefined): BackfillTrack {
    if (this.active.size === 0 && this.finished === 0) this.reset();
    this.soleName = this.active.size === 0 && this.finished === 0 ? streamName(key) : undefined;
    const t: Tracked = { name: streamName(key), total: Math.max(0, total ?? 0), done: 0, slices };
    this.active.add(t);
    return {
      update: (s, acked) => {
        t.slices = s;
        t.done += acked;
        this.tick(false);
      },
      setTotal: (n) => {
        t.total = Math.max(0, n);
      },
      finish: () => this.retire(t, true),
      leave: () => this.retire(t, false),
    };
  }

  snapshot(): ProgressSnapshot {
    let events = this.finishedEvents,
      total = this.finishedTotal,
      covered = 0;
    for (const t of this.active) {
      events += t.done;
      total += t.total;
      covered += coveredFraction(t.slices);
    }
    const streams = this.active.size + this.finished;
    const open = this.active.size > 0;
    // Counted totals are close, not exact (late events, bounds): never show 100 % before the last stream is done.
    const fraction =
      total > 0 ? Math.min(events / total, open ? 0.999 : 1) : streams > 0 ? (covered + this.finished) / streams : 1;
    const left = Math.max(0, total - events);
    return {
      active: this.active.size,
      finished: this.finished,
      events,
      total,
      fraction,
      rate: this.rate,
      etaSeconds: !open ? 0 : total > 0 && left === 0 ? 0 : this.eta,
    };
  }

  private reset(): void {
    this.startedAt = this.sampleAt = this.now();
    this.samples = [{ at: this.startedAt, events: 0 }];
    this.rate = this.eta = undefined;
    this.finished = this.finishedEvents = this.finishedTotal = 0;
    this.lastDraw = 0;
  }

  private retire(t: Tracked, completed: boolean): void {
    if (!this.active.delete(t)) return;
    if (completed) {
      this.finished++;
      // A completed backfill is all done, whatever the count said.
      const total = Math.max(t.total, t.done);
      this.finishedEvents += total;
      this.finishedTotal += total;
    }
    // On a TTY the bar shows the finished stream at once; log lines keep their pace.
    if (this.active.size > 0) return this.tick(false, this.tty);
    if (this.finished > 0) this.tick(true);
    else if (this.lineOpen) this.endLine();
    this.finished = 0;
  }

  /** Takes a rate sample at most once a second; draws when due (always when `final` or `force`). */
  private tick(final: boolean, force = false): void {
    const now = this.now();
    const dt = now - this.sampleAt;
    if (dt >= 1000) {
      const { events, total } = this.snapshot();
      // The rate over the last RATE_WINDOW_MS (the start-up wait before the first pages drops out of it).
      this.samples.push({ at: now, events });
      while (this.samples.length > 2 && this.samples[1]!.at <= now - RATE_WINDOW_MS) this.samples.shift();
      const base = this.samples[0]!;
      if (now > base.at) this.rate = ((events - base.events) / (now - base.at)) * 1000;
      this.sampleAt = now;
      // The shown ETA counts down by the time passed and moves only part of the way to the computed one: acks
      // come in bursts (a send of thousands at a time), and the computed ETA swings with them. None is shown
      // before ETA_AFTER_MS: the first seconds say little about the rate.
      const computed =
        now - this.startedAt >= ETA_AFTER_MS && this.rate !== undefined && this.rate > 0 && total > 0
          ? Math.max(0, total - events) / this.rate
          : undefined;
      if (computed === undefined) this.eta = undefined;
      else if (this.eta === undefined) this.eta = computed;
      else {
        const counted = Math.max(0, this.eta - dt / 1000);
        // A computed ETA off by more than 2× is a rate that really changed (the first pages were slow): take it.
        const off = computed > 2 * counted || 2 * computed < counted;
        this.eta = off ? computed : counted + (computed - counted) * (1 - Math.exp(-dt / ETA_SMOOTH_MS));
      }
    }
    const every = this.tty ? DRAW_EVERY_MS : (this.opts.logEveryMs ?? 10_000);
    if (!final && !force && now - this.lastDraw < every) return;
    this.lastDraw = now;
    this.emit(this.snapshot(), final);
  }

  private endLine(): void {
    this.opts.out!.write('\n');
    this.lineOpen = false;
  }

  private label(s: ProgressSnapshot): string {
    return s.active + s.finished === 1 && this.soleName !== undefined
      ? this.soleName
      : `${s.active + s.finished} streams`;
  }

  private emit(s: ProgressSnapshot, final: boolean): void {
    const pct = (s.fraction * 100).toFixed(1);
    const eta = final ? 'done' : s.etaSeconds === undefined ? '?' : formatSeconds(s.etaSeconds);
    const rate = s.rate === undefined ? '?' : String(Math.round(s.rate));
    if (this.tty) {
      const width = 24;
      const fill = Math.round(s.fraction * width);
      const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
      const count = s.total > 0 ? `${s.events}/${s.total}` : String(s.events);
      const line = `backfill ${this.label(s)} ${bar} ${pct.padStart(5)}% ${count} events ${rate}/s ETA ${eta}`;
      this.opts.out!.write(`\r\x1b[2K${line}`);
      this.lineOpen = true;
      if (final) this.endLine();
    } else {
      this.opts.logger.info(
        {
          streams: s.active + s.finished,
          streamsDone: s.finished,
          percent: Number(pct),
          events: s.events,
          eventsTotal: s.total,
          eventsPerSecond: s.rate === undefined ? null : Math.round(s.rate),
          etaSeconds: s.etaSeconds === undefined ? null : Math.round(s.etaSeconds),
        },
        final ? 'backfill finished' : 'backfill progress',
      );
    }
  }
}

function formatSeconds(sec: number): string {
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
