// How the orgs of a configuration are polled: per service, in batches of --org-batch-size orgs, one query per batch
// (x-org-id repeated), plus the provider's Multi-Tenant Portal (--provider-id). Shared by the engine (its streams) and
// the process (how often a stream can be polled within the request budget).
import { orgsOfShard } from './shard.js';
import type { CollectorConfig } from './types.js';

/** Orgs per query by default: one request serves them all, and a refused org costs ~2·log2(100) ≈ 14 to find. */
export const DEFAULT_ORG_BATCH_SIZE = 100;

/** The orgs of this instance: those of its shard (--shard), in their given order, each once. */
export function instanceOrgs(config: Pick<CollectorConfig, 'orgIds' | 'shard'>): string[] {
  const orgs = config.shard ? orgsOfShard(config.orgIds, config.shard) : config.orgIds;
  return [...new Set(orgs)];
}

/** `orgs` cut into batches of `size` (in order). */
export function orgBatches(orgs: readonly string[], size: number): string[][] {
  const n = Math.max(1, Math.floor(size));
  const out: string[][] = [];
  for (let i = 0; i < orgs.length; i += n) out.push(orgs.slice(i, i + n));
  return out;
}

/** Whether this instance reads the provider's portal (--provider-id): with --shard, shard 0 does, alone. */
export function readsProvider(config: Pick<CollectorConfig, 'providerId' | 'shard'>): boolean {
  return config.providerId !== undefined && (config.shard === undefined || config.shard.index === 0);
}

/**
 * The streams polled once per interval, each at least one query: every batch × service, and the provider's portal.
 * 0 for a shard none of the orgs falls in (and without the provider).
 */
export function pollingStreams(
  config: Pick<CollectorConfig, 'orgIds' | 'shard' | 'services' | 'orgBatchSize' | 'providerId'>,
): number {
  const orgs = instanceOrgs(config);
  const provider = readsProvider(config) ? 1 : 0;
  if (config.shard && config.orgIds.length > 0 && orgs.length === 0) return provider;
  const batches = orgs.length === 0 ? 1 : orgBatches(orgs, config.orgBatchSize ?? DEFAULT_ORG_BATCH_SIZE).length;
  return batches * config.services.length + provider;
}
