// The part of the metrics object (input/metrics.ts) the engine calls: kept narrow so tests can pass a fake
// and the engine does not depend on prom-client. `org` is '' or undefined for a stream without x-org-id.
export interface EngineMetrics {
  eventsForwarded(org: string | undefined, service: string, n: number): void;
  duplicatesSkipped(org: string | undefined, service: string, n: number): void;
  checkpoint(org: string | undefined, service: string, checkpointMs: number): void;
  success(org: string | undefined, service: string, atMs?: number): void;
  streamFailed(org: string | undefined, service: string, reason: string): void;
  streamStarted(org: string | undefined, service: string): void;
  completenessRefetch(org: string | undefined, service: string): void;
  /** A window still disagreed with /events/count after its re-fetch (the overlap will recover late events). */
  windowIncomplete?(org: string | undefined, service: string): void;
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
