// What the delivery core asks of Fluent Bit (oracle/ implements it from Fluent Bit's HTTP server, --fluent-bit-http).
// Optional: without an oracle, every chunk the last run had in flight at its stop is sent again.

/** The forward ledger (oracle/send-ledger.ts): numbers each chunk written, so a restart can tell which were stored. */
export interface WriteLedger {
  /** A chunk of `entries` (`bytes` of msgpack) is about to be written on `connection`: its sequence number. */
  written(entries: number, bytes: number, connection: number): number;
  /** The write `seq` settled, or its send failed. */
  done(seq: number): void;
}

/** Which acks of the last run were stored, as one answer of Fluent Bit told. */
export interface AckVerdict {
  stored(ackedAt: number): boolean;
  /** What the answer showed, for the log line. */
  readonly evidence: Readonly<Record<string, unknown>>;
}

export interface RestartOracle {
  /** The ledger numbering this run's writes (journaled sent@seq); undefined when the oracle keeps none. */
  readonly writes?: WriteLedger;
  /** Whether the last run's write `seq` was stored: true, false, or undefined when it cannot tell. */
  writeStored(seq: number): boolean | undefined;
  /**
   * Which of the last run's acks (the newest at `newestAckedAt`, on the clock of the forward client's ack times)
   * were stored; waits until the settle time after the newest has passed. Throws when Fluent Bit cannot tell.
   */
  acksStored(newestAckedAt: number, signal?: AbortSignal): Promise<AckVerdict>;
}
