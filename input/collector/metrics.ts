// The part of the metrics object (input/metrics.ts) the engine calls, documented there: kept narrow so tests
// can pass a fake, and type-only so the engine does not load prom-client.
import type { CollectorMetrics } from '../metrics.js';

export type EngineMetrics =
  Pick<CollectorMetrics, 'eventsForwarded' | 'duplicatesSkipped' | 'checkpoint' | 'success' | 'streamFailed' | 'streamStarted' | 'completenessRefetch'>
  & Partial<Pick<CollectorMetrics, 'windowIncomplete' | 'unsettledRefetch' | 'servicesCollected' | 'streamRetired' | 'streamWaiting'>>;

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
