// A stream's state in memory plus its durable copy: every save first makes the id journal durable (so the
// state never gets ahead of the journal after a power loss), then writes the state atomically.
import type { SeenIds } from '../delivery/seen-ids.js';
import { StateWriter, type StreamState } from './state.js';

export class StreamStore {
  private current: StreamState;

  constructor(readonly writer: StateWriter, readonly seen: SeenIds, initial: StreamState) {
    this.current = initial;
  }

  get state(): StreamState {
    return this.current;
  }

  /** Sets the state in memory and resolves once it (or a newer one) is durable. */
  async save(next: StreamState): Promise<void> {
    this.current = next;
    await this.seen.sync();
    await this.writer.write(next);
  }
}
