// Backfill progress: a bar redrawn on stderr when it is a TTY, otherwise a log line every few seconds.
// Progress is measured in covered time (the API gives no event total up front without an extra count call).
import type { Logger } from '../types.js';
import type { SliceState, StreamKey } from './state.js';

export interface ProgressOptions {
  readonly key: StreamKey;
  readonly logger: Logger;
  /** Where the bar goes; a non-TTY stream means log lines instead. */
  readonly out?: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown; columns?: number };
  /** Real-time interval between log lines (ms). */
  readonly logEveryMs?: number;
}

export interface ProgressSnapshot {
  readonly fraction: number;
  readonly events: number;
  readonly rate: number;
  readonly etaSeconds: number | undefined;
}

/** Fraction of the backfill's time span whose events are all acked. */
function coveredFraction(slices: readonly SliceState[]): number {
  let total = 0, done = 0;
  for (const s of slices) {
    total += s.end - s.start;
    done += s.done ? s.end - s.start : s.cursor - s.start;
  }
  return total > 0 ? Math.min(1, done / total) : 1;
}

export class BackfillProgress {
  private readonly startedAt = Date.now();
  private readonly startFraction: number;
  private lastDraw = 0;
  private events = 0;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions, slices: readonly SliceState[]) {
    this.startFraction = coveredFraction(slices);
    this.tty = opts.out?.isTTY === true;
  }

  snapshot(slices: readonly SliceState[]): ProgressSnapshot {
    const fraction = coveredFraction(slices);
    const elapsed = Math.max(1e-3, (Date.now() - this.startedAt) / 1000);
    const gained = fraction - this.startFraction;
    return {
      fraction,
      events: this.events,
      rate: this.events / elapsed,
      etaSeconds: gained > 0 ? ((1 - fraction) * elapsed) / gained : undefined,
    };
  }

  update(slices: readonly SliceState[], newEvents: number): void {
    this.events += newEvents;
    const now = Date.now();
    const every = this.tty ? 200 : (this.opts.logEveryMs ?? 10_000);
    if (now - this.lastDraw < every) return;
    this.lastDraw = now;
    this.emit(slices, false);
  }

  finish(slices: readonly SliceState[]): void {
    this.emit(slices, true);
  }

  private emit(slices: readonly SliceState[], final: boolean): void {
    const s = this.snapshot(slices);
    const { org, service } = this.opts.key;
    const name = org === '' ? service : `${org}/${service}`;
    const pct = (s.fraction * 100).toFixed(1);
    const eta = s.etaSeconds === undefined ? '?' : formatSeconds(s.etaSeconds);
    if (this.tty) {
      const width = 24;
      const fill = Math.round(s.fraction * width);
      const bar = '█'.repeat(fill) + '░'.repeat(width - fill);
      const line = `backfill ${name} ${bar} ${pct.padStart(5)}% ${s.events} events ${Math.round(s.rate)}/s ETA ${eta}`;
      this.opts.out!.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else {
      this.opts.logger.info(
        { org, service, percent: Number(pct), events: s.events, eventsPerSecond: Math.round(s.rate), etaSeconds: s.etaSeconds === undefined ? null : Math.round(s.etaSeconds), slices: slices.length, slicesDone: slices.filter((x) => x.done).length },
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
