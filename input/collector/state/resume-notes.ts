// What a resumed stream's state says that the user must hear about: a checkpoint later than now (nothing is
// fetched until the clock passes it), and a --since that differs from the start stored in the state (ignored:
// --since applies to a stream's first start only). Pure: the stream logs the lines and reports the health.
import type { StreamPaths, StreamState } from './state.js';
import { isoMillis } from './timestamp.js';

export interface ResumeNotes {
  /** Set when the checkpoint is later than now: the warning, and the reason /healthz gives. */
  readonly futureCheckpoint?: { readonly message: string; readonly reason: string };
  /** Set when --since was given and differs from the stored start. */
  readonly sinceIgnored?: string;
}

/** A path as a shell word: quoted only when it needs to be. */
function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`;
}

/** The command that makes a stream start over from --since: its state, backup and id journal removed. */
export function startOverCommand(paths: StreamPaths): string {
  return `rm -f ${[paths.state, paths.backup, paths.journal].map(shellWord).join(' ')}`;
}

export function resumeNotes(
  state: StreamState,
  input: {
    readonly name: string;
    readonly paths: StreamPaths;
    readonly now: number;
    readonly sinceMs: number;
    /** --since was set (flag, env or file), not defaulted: only then is ignoring it worth a word. */
    readonly sinceGiven: boolean;
  },
): ResumeNotes {
  const { name, paths, now } = input;
  const startOver = `stop the collector and run \`${startOverCommand(paths)}\``;
  let futureCheckpoint: ResumeNotes['futureCheckpoint'];
  if (state.checkpoint > now) {
    const reason =
      `checkpoint ${isoMillis(state.checkpoint)} in ${paths.state} is later than now ` +
      `(${isoMillis(now)}): nothing is fetched until the clock passes it`;
    futureCheckpoint = {
      reason,
      message:
        `stream ${name}: the ${reason}. If this host's clock is right, the state file is wrong: ${startOver} to ` +
        `collect again from --since, ` +
        'or set "checkpoint" in it to the last instant you know was collected',
    };
  }
  let sinceIgnored: string | undefined;
  if (input.sinceGiven && input.sinceMs !== state.since) {
    sinceIgnored =
      `--since ${isoMillis(input.sinceMs)} is ignored for stream ${name}: it resumes from its checkpoint ` +
      `${isoMillis(state.checkpoint)} ` +
      `(its stored start is ${isoMillis(state.since)}, in ${paths.state}); --since applies to a stream's first ` +
      `start only. ` +
      `To start this stream over from --since, ${startOver} (events after --since are forwarded again)`;
  }
  return { ...(futureCheckpoint ? { futureCheckpoint } : {}), ...(sinceIgnored !== undefined ? { sinceIgnored } : {}) };
}
