// The backfill progress board: one aggregate over every stream, percent in events, an ETA that does not jump.
import { describe, expect, it } from 'vitest';
import { BackfillBoard } from '../../../input/collector/engine/progress.js';
import type { SliceState } from '../../../input/collector/state/state.js';
import { memoryLogger } from '../../support/fakes.js';

const slice = (cursor: number, done = false): SliceState[] => [{ start: 0, end: 1000, cursor, done }];

function ttyBoard(): { board: BackfillBoard; out: string[]; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const out: string[] = [];
  const board = new BackfillBoard({
    logger: memoryLogger(),
    out: { isTTY: true, write: (s: string) => out.push(s) },
    clock: { now: () => clock.t },
  });
  return { board, out, clock };
}

/** The ETA in seconds of each drawn line. */
function etas(out: readonly string[]): number[] {
  return out.flatMap((l) => {
    const m = /ETA (?:(\d+)h(\d+)m|(\d+)m(\d+)s|(\d+)s)/.exec(l);
    if (!m) return [];
    return [
      m[1] !== undefined
        ? Number(m[1]) * 3600 + Number(m[2]) * 60
        : m[3] !== undefined
          ? Number(m[3]) * 60 + Number(m[4])
          : Number(m[5]),
    ];
  });
}

describe('BackfillBoard', () => {
  it('aggregates every stream into one bar: events over the counted total', () => {
    const { board, out, clock } = ttyBoard();
    const a = board.join({ org: '', service: 'directory' }, slice(0), 1000);
    const b = board.join({ org: '', service: 'sso' }, slice(0), 3000);
    clock.t += 1000;
    a.update(slice(500), 500);
    clock.t += 1000;
    b.update(slice(100), 500);
    expect(out.at(-1)).toMatch(/^\r\x1b\[2Kbackfill 2 streams [█░]{24}  25\.0% 1000\/4000 events 500\/s ETA \?$/); // no ETA in the first seconds
    a.finish();
    expect(out.at(-1)).toMatch(/ 37\.5% 1500\/4000 events/); // a counts as all done
    b.update(slice(1000), 2500);
    b.finish();
    expect(out.join('')).toMatch(/backfill 2 streams █{24} 100\.0% 4000\/4000 events [^\r]* ETA done\n$/);
    expect(board.snapshot().active).toBe(0);
  });

  it('never shows 100 % before the last stream is done, even when more events came than were counted', () => {
    const { board, out, clock } = ttyBoard();
    const a = board.join({ org: 'o1', service: 'all' }, slice(0), 100);
    clock.t += 1000;
    a.update(slice(900), 150);
    expect(out.at(-1)).toMatch(/backfill o1\/all .* 99\.9% 150\/100 events/);
    a.finish();
    expect(out.join('')).toMatch(/100\.0% 150\/150 events [^\r]*ETA done\n$/);
  });

  it('the ETA falls steadily under bursty acks instead of jumping', () => {
    const { board, out, clock } = ttyBoard();
    const total = 600_000;
    const t = board.join({ org: '', service: 'all' }, slice(0), total);
    // 2000 events per second on average, acked in bursts: 6000 at once, then nothing for 3 s.
    let sent = 0;
    for (let sec = 1; sec <= 200; sec++) {
      clock.t += 1000;
      const n = sec % 3 === 0 ? 6000 : 0;
      sent += n;
      t.update(slice(Math.floor((sent / total) * 1000)), n);
    }
    const e = etas(out);
    expect(e.length).toBeGreaterThan(150);
    for (let i = 1; i < e.length; i++) {
      const step = e[i - 1]! - e[i]!;
      // Never up by more than a few seconds; after the first minute, about one second per second.
      expect(step).toBeGreaterThan(-3);
      if (i > 60) expect(step).toBeLessThanOrEqual(3);
    }
    // And it is right: (600k − 400k) / 2000/s = 100 s left.
    expect(e.at(-1)!).toBeGreaterThan(85);
    expect(e.at(-1)!).toBeLessThan(115);
  });

  it('a backfill whose total is counted later: covered time first, then events over the total', () => {
    const { board, out, clock } = ttyBoard();
    const a = board.join({ org: '', service: 'all' }, slice(0), undefined);
    clock.t += 1000;
    a.update(slice(250), 100);
    expect(out.at(-1)).toMatch(/ 25\.0% 100 events/);
    a.setTotal(400);
    clock.t += 1000;
    a.update(slice(500), 100);
    expect(out.at(-1)).toMatch(/ 50\.0% 200\/400 events/);
  });

  it('a stream that stops early leaves the bar without counting as done; the line is ended', () => {
    const { board, out, clock } = ttyBoard();
    const a = board.join({ org: '', service: 'all' }, slice(0), 100);
    clock.t += 1000;
    a.update(slice(200), 20);
    a.leave();
    expect(out.at(-1)).toBe('\n');
    // The next backfill starts a fresh bar.
    const b = board.join({ org: '', service: 'sso' }, slice(0), 10);
    clock.t += 1000;
    b.update(slice(500), 5);
    expect(out.at(-1)).toMatch(/backfill sso .* 50\.0% 5\/10 events/);
  });

  it('without a TTY: aggregate log lines every logEveryMs, then one "backfill finished"', () => {
    const clock = { t: 0 };
    const logger = memoryLogger();
    const board = new BackfillBoard({
      logger,
      out: { isTTY: false, write: () => true },
      logEveryMs: 10_000,
      clock: { now: () => clock.t },
    });
    const tracks = ['a', 'b', 'c'].map((org) => board.join({ org, service: 'all' }, slice(0), 1000));
    for (let sec = 1; sec <= 30; sec++) {
      clock.t += 1000;
      tracks[sec % 3]!.update(slice(sec * 30), 100);
    }
    for (const t of tracks) t.finish();
    const lines = logger.lines.filter((l) => String(l.msg).startsWith('backfill '));
    expect(lines.filter((l) => l.msg === 'backfill progress').length).toBe(3);
    expect(lines.filter((l) => l.msg === 'backfill finished')).toHaveLength(1);
    expect(lines[0]!.obj).toMatchObject({
      streams: 3,
      streamsDone: 0,
      percent: 33.3,
      events: 1000,
      eventsTotal: 3000,
      eventsPerSecond: 100,
    });
    expect(lines.at(-1)).toMatchObject({
      msg: 'backfill finished',
      obj: { streams: 3, streamsDone: 3, percent: 100, events: 3000, eventsTotal: 3000 },
    });
  });
});
