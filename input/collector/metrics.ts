// What the engine reports (input/metrics.ts implements it with prom-client and /healthz): a contract every layer of
// the collector may use, kept narrow so that tests can pass a fake, and free of prom-client.

/**
 * Why a service is collected with --services all: `all` itself; seen through `all`; missed by `all` (named in its
 * query).
 */
export type CoverageReason = 'configured' | 'via_all' | 'missed_by_all';

export interface ServiceCoverageEntry {
  readonly org: string;
  readonly service: string;
  readonly reason: CoverageReason;
  /** missed_by_all: from this instant `all`'s query names the service; before it, its catch-up stream. */
  readonly handover?: string;
  /** missed_by_all: the catch-up stream is still running. */
  readonly catchingUp?: boolean;
}

/** What the engine reports. `org` may be undefined (no `x-org-id`). */
export interface EngineMetrics {
  /** Events received from the API (every event of a page, counted for the org it belongs to). */
  eventsFetched?(org: string | undefined, service: string, n: number): void;
  /** Events acknowledged by Fluent Bit (their acks settled). */
  eventsForwarded(org: string | undefined, service: string, n: number): void;
  /** Events dropped because their id was already forwarded (overlap re-scan). */
  duplicatesSkipped(org: string | undefined, service: string, n: number): void;
  /** The persisted checkpoint (epoch ms); lag is now − checkpoint at scrape time. */
  checkpoint(org: string | undefined, service: string, checkpointMs: number): void;
  /** A poll of the stream completed (or a batch was acked); `atMs` defaults to the clock's now. */
  success(org: string | undefined, service: string, atMs?: number): void;
  /** The stream stopped for good (e.g. 401); health turns 503 and says why. */
  streamFailed(org: string | undefined, service: string, reason: string): void;
  /** Registers a stream so health knows it before its first success. */
  streamStarted(org: string | undefined, service: string): void;
  completenessRefetch(org: string | undefined, service: string): void;
  /** A window still disagreed with /events/count after its re-fetch (the overlap re-scan recovers late events). */
  windowIncomplete?(org: string | undefined, service: string): void;
  /** A poll was run again at once: Fluent Bit's connection closed within the settle time of acked events. */
  unsettledRefetch?(org: string | undefined, service: string): void;
  /** Which services are collected and why (engine/services.ts), replacing the previous report. */
  servicesCollected?(entries: readonly ServiceCoverageEntry[]): void;
  /** A catch-up stream finished its part for good: health no longer expects polls from it. */
  streamRetired?(org: string | undefined, service: string): void;
  /**
   * The stream cannot fetch anything yet, for this reason (its checkpoint is later than now): health turns 503 and
   * says why, until its next completed window. `undefined` clears it.
   */
  streamWaiting?(org: string | undefined, service: string, reason: string | undefined): void;
}

const noop = (): void => {};

export const noMetrics: EngineMetrics = {
  eventsForwarded: noop,
  duplicatesSkipped: noop,
  checkpoint: noop,
  success: noop,
  streamFailed: noop,
  streamStarted: noop,
  completenessRefetch: noop,
};
