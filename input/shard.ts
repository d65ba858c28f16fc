// --shard K/N: which orgs this instance collects. An org belongs to shard
//   jumpHash(first 8 bytes, big-endian, of SHA-256(UTF-8 bytes of the org id), N)
// where jumpHash is Lamping and Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
// Algorithm", 2014). SHA-256 rather than a fast hash: jump hash needs well-mixed keys (FNV-1a put 8 one-letter
// ids in 2 of 3 shards), and it runs once per org at start. This mapping is part of the product's contract
// (state directories are laid out by it): it must never change.
import { createHash } from 'node:crypto';
import { JumpCloudError } from './errors.js';
// Jump hash rather than hash mod N: going from N to N + 1 shards moves only the ~1/(N + 1) of the orgs that land
// on the new shard N; every other org stays where it was (with mod N most orgs would move).

export interface Shard {
  /** K: 0 … count − 1. */
  readonly index: number;
  /** N. */
  readonly count: number;
}

export const MAX_SHARDS = 10_000;

const MASK64 = 0xffffffffffffffffn;

/** The 64-bit key of an org: the first 8 bytes of SHA-256 of its id (UTF-8), big-endian. */
export function orgKey(orgId: string): bigint {
  return createHash('sha256').update(orgId, 'utf8').digest().readBigUInt64BE(0);
}

/** Jump consistent hash: the bucket 0 … buckets − 1 of a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  let k = key & MASK64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** The shard (0 … count − 1) an org belongs to. */
export function shardOf(orgId: string, count: number): number {
  return jumpHash(orgKey(orgId), count);
}

export class ShardSpecError extends JumpCloudError {
  static override readonly code: string = 'SHARD_INVALID';
  override readonly fatal = true;
}

/**
 * `K/N`, where K is a number or a StatefulSet pod name whose `-<ordinal>` suffix is K (`collector-2/3` is 2/3),
 * so a manifest can write `JUMPCLOUD_SHARD=$(POD_NAME)/3` with POD_NAME from the downward API.
 */
export function parseShard(text: string): Shard {
  const t = text.trim();
  const m = /^(.+)\/(\d+)$/.exec(t);
  if (!m)
    throw new ShardSpecError(
      `"${t}" is not a shard: expected K/N, e.g. 0/3 (K from 0 to N − 1), or POD_NAME/N with a StatefulSet pod name ` +
        `such as collector-2/3`,
    );
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new ShardSpecError(`"${t}": N must be from 1 to ${MAX_SHARDS}`);
  const who = m[1]!;
  const ordinal = /^\d+$/.test(who) ? who : /-(\d+)$/.exec(who)?.[1];
  if (ordinal === undefined) {
    throw new ShardSpecError(
      `"${t}": "${who}" is neither a number nor a pod name ending in -<ordinal> (e.g. collector-0)`,
    );
  }
  const index = Number(ordinal);
  if (index >= count)
    throw new ShardSpecError(
      `"${t}": K is ${index} but must be from 0 to ${count - 1} (N − 1); with ${count} ` +
        `shard${count === 1 ? '' : 's'} run replicas 0 … ${count - 1}, or raise N`,
    );
  return { index, count };
}

/** The orgs of `orgIds` that shard `shard` collects, in their given order. */
export function orgsOfShard(orgIds: readonly string[], shard: Shard): string[] {
  return orgIds.filter((o) => shardOf(o, shard.count) === shard.index);
}
