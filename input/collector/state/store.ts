// A stream's state in memory plus its durable copy: every save first makes the id journal durable (so the state
// never gets ahead of the journal after a power loss), then writes the state atomically.
import { StateWriter, type StreamState } from './state.js';

/** What a save must make durable first: the stream's id journal (delivery's SeenIds). */
export interface Journal {
  sync(): Promise<void>;
}

/**
 * What a poll or a backfill reads and moves: a stream's state. One org's StreamStore, or the stores of orgs polled
 * with one query (engine/cohort.ts), which all hold the same checkpoint and backfill.
 */
export interface StateStore {
  readonly state: StreamState;
  /** Sets the state in memory and resolves once it (or a newer one) is durable. */
  save(next: StreamState): Promise<void>;
}

export class StreamStore implements StateStore {
  private current: StreamState;

  constructor(
    readonly writer: StateWriter,
    readonly journal: Journal,
    initial: StreamState,
  ) {
    this.current = initial;
  }

  get state(): StreamState {
    return this.current;
  }

  /** Sets the state in memory and resolves once it (or a newer one) is durable. */
  async save(next: StreamState): Promise<void> {
    this.current = next;
    await this.journal.sync();
    await this.writer.write(next);
  }
}
