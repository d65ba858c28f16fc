// The "JumpCloud API" options: region or URL, credentials (API key or service account), orgs and services.
import { DI_REGIONS, OAUTH_TOKEN_URLS, type DiRegion } from '../di/regions.js';
import { ShardSpecError, orgsOfShard, parseShard, type Shard } from '../shard.js';
import type { CollectorConfig, DiAuth } from '../types.js';
import type { Settings } from './sources.js';
import { ConfigError, invalid, type Source } from './spec.js';
import { toDuration, toInt, toList, toText, toUrl } from './values.js';

export interface ApiSettings extends Pick<
  CollectorConfig,
  | 'apiUrl'
  | 'orgIds'
  | 'services'
  | 'servicesCheckMs'
  | 'pageLimit'
  | 'requestTimeoutMs'
  | 'maxRequestsPerSecond'
  | 'orgBatchSize'
  | 'providerId'
> {
  /** Only with more than one shard. */
  readonly shard: Shard | undefined;
  readonly region: DiRegion;
  readonly auth: DiAuth | undefined;
  /** No credentials and no --api-url: run against the built-in simulator. */
  readonly demo: boolean;
}

export function apiSettings(s: Settings): ApiSettings {
  const { region, apiUrl, urlSource } = endpoint(s);
  const { auth, orgIds } = credentials(s, region);
  const demo = auth === undefined && urlSource === undefined;
  if (auth === undefined && !demo) {
    throw new ConfigError(
      `--api-url is set (${urlSource!.label}) but no credentials: set --api-key / JUMPCLOUD_API_KEY(_FILE), or ` +
        `--client-id and --client-secret (or unset --api-url to run the built-in demo)`,
      'api-key',
    );
  }
  if (apiUrl.startsWith('http://') && !/^http:\/\/(127\.|localhost|\[::1\])/.test(apiUrl)) {
    s.warnings.push(`--api-url ${apiUrl} is not encrypted: credentials travel in clear text`);
  }
  const services = toList(s.opt('services'), s.req('services'));
  if (services.length === 0)
    throw invalid(s.opt('services'), s.req('services').source, 'names no service: expected e.g. all or directory,sso');
  const requestTimeoutMs = toDuration(s.opt('request-timeout'), s.req('request-timeout'));
  if (requestTimeoutMs <= 0)
    throw invalid(s.opt('request-timeout'), s.req('request-timeout').source, 'must be more than 0');
  const servicesCheckMs = toDuration(s.opt('services-check'), s.req('services-check'));
  const maxRequestsPerSecond = toInt(s.opt('max-requests-per-second'), s.req('max-requests-per-second'));
  const shard = shardOf(s, orgIds);
  const providerId = providerOf(s);
  return {
    region,
    apiUrl,
    auth,
    demo,
    orgIds,
    services,
    servicesCheckMs,
    pageLimit: toInt(s.opt('page-limit'), s.req('page-limit')),
    requestTimeoutMs,
    maxRequestsPerSecond,
    shard,
    orgBatchSize: toInt(s.opt('org-batch-size'), s.req('org-batch-size')),
    ...(providerId !== undefined ? { providerId } : {}),
  };
}

/** --provider-id: one id (as x-provider-id takes it), or unset. */
function providerOf(s: Settings): string | undefined {
  const raw = s.get('provider-id');
  if (!raw) return undefined;
  const id = toText(s.opt('provider-id'), raw).trim();
  if (!/^[A-Za-z0-9_-]+$/.test(id)) {
    throw invalid(
      s.opt('provider-id'),
      raw.source,
      `"${id}" is not a provider id: one id of letters, digits, "-" or "_" (the MSP's, as the Multi-Tenant Portal ` +
        'shows it)',
    );
  }
  return id;
}

/** --shard K/N: a part of --org-ids (docs/operations.md: Sharding). */
function shardOf(s: Settings, orgIds: readonly string[]): Shard | undefined {
  const shardRaw = s.get('shard');
  if (!shardRaw) return undefined;
  let shard: Shard;
  try {
    shard = parseShard(toText(s.opt('shard'), shardRaw));
  } catch (err) {
    if (err instanceof ShardSpecError) throw invalid(s.opt('shard'), shardRaw.source, err.message);
    throw err;
  }
  if (orgIds.length === 0 && shard.count > 1) {
    throw invalid(
      s.opt('shard'),
      shardRaw.source,
      'shards split the orgs of --org-ids between instances, and no --org-ids is set: without it there is one org ' +
        "(the API key's own) and every shard would collect it; set --org-ids (an MSP key or a service account) or " +
        'drop --shard',
    );
  }
  if (orgIds.length > 0 && orgsOfShard(orgIds, shard).length === 0) {
    s.warnings.push(
      `--shard ${shard.index}/${shard.count}: none of the ${orgIds.length} orgs of --org-ids falls in this shard; ` +
        `this instance collects nothing (fewer shards, or more orgs)`,
    );
  }
  return shard.count > 1 ? shard : undefined;
}

/** --region or --api-url: the one given with the higher precedence wins, with a warning naming the other. */
function endpoint(s: Settings): { region: DiRegion; apiUrl: string; urlSource: Source | undefined } {
  const regionRaw = s.req('region');
  const regionText = toText(s.opt('region'), regionRaw).trim().toLowerCase();
  if (!(regionText in DI_REGIONS))
    throw invalid(s.opt('region'), regionRaw.source, `"${regionText}" is not a region: expected us, eu or in`);
  const region = regionText as DiRegion;
  const urlRaw = s.get('api-url');
  const rank = (src: Source): number => ['default', 'file', 'env', 'flag'].indexOf(src.kind);
  let apiUrl: string = DI_REGIONS[region];
  if (urlRaw) {
    apiUrl = toUrl(s.opt('api-url'), urlRaw);
    if (regionRaw.source.kind !== 'default' && rank(regionRaw.source) > rank(urlRaw.source)) {
      apiUrl = DI_REGIONS[region];
      s.warnings.push(`--region ${region} (${regionRaw.source.label}) overrides --api-url from ${urlRaw.source.label}`);
    } else if (regionRaw.source.kind !== 'default') {
      s.warnings.push(
        `--api-url (${urlRaw.source.label}) is used; --region ${region} (${regionRaw.source.label}) only picks the ` +
          `default --token-url`,
      );
    }
  }
  return { region, apiUrl, urlSource: urlRaw?.source };
}

/**
 * An API key, or a service account (client id + secret, which needs org ids), never both. The service account's
 * token endpoint follows the region unless --token-url is given (an explicit one wins, e.g. a proxy).
 */
function credentials(s: Settings, region: DiRegion): { auth: DiAuth | undefined; orgIds: string[] } {
  const apiKeyRaw = s.get('api-key');
  const clientIdRaw = s.get('client-id');
  const clientSecretRaw = s.get('client-secret');
  const orgIds = s.get('org-ids') ? toList(s.opt('org-ids'), s.req('org-ids')) : [];
  if (apiKeyRaw && (clientIdRaw || clientSecretRaw)) {
    const other = (clientIdRaw ?? clientSecretRaw)!;
    throw new ConfigError(
      `an API key (${apiKeyRaw.source.label}) and a service account (${other.source.label}) are both set: use one ` +
        `of them`,
      'api-key',
      apiKeyRaw.source,
    );
  }
  if (apiKeyRaw) {
    const apiKey = toText(s.opt('api-key'), apiKeyRaw).trim();
    if (apiKey === '') throw invalid(s.opt('api-key'), apiKeyRaw.source, 'is empty');
    return { auth: { kind: 'apiKey', apiKey }, orgIds };
  }
  if (!clientIdRaw && !clientSecretRaw) return { auth: undefined, orgIds };
  if (!clientIdRaw)
    throw new ConfigError(
      `--client-secret (${clientSecretRaw!.source.label}) needs --client-id (env JUMPCLOUD_CLIENT_ID)`,
      'client-id',
    );
  if (!clientSecretRaw)
    throw new ConfigError(
      `--client-id (${clientIdRaw.source.label}) needs --client-secret (env JUMPCLOUD_CLIENT_SECRET or ` +
        `JUMPCLOUD_CLIENT_SECRET_FILE)`,
      'client-secret',
    );
  if (orgIds.length === 0) {
    throw new ConfigError(
      'a service account (--client-id) needs --org-ids (env JUMPCLOUD_ORG_IDS): JumpCloud requires x-org-id with ' +
        'OAuth tokens',
      'org-ids',
    );
  }
  const tokenUrlRaw = s.get('token-url');
  const auth: DiAuth = {
    kind: 'oauth',
    clientId: toText(s.opt('client-id'), clientIdRaw).trim(),
    clientSecret: toText(s.opt('client-secret'), clientSecretRaw).trim(),
    tokenUrl: tokenUrlRaw ? toUrl(s.opt('token-url'), tokenUrlRaw) : OAUTH_TOKEN_URLS[region],
  };
  return { auth, orgIds };
}
