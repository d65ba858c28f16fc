// Where the DI API lives. JumpCloud runs separate data centers; an org belongs to exactly one of them.

export const DI_REGIONS = {
  us: 'https://api.jumpcloud.com/insights/directory/v1',
  eu: 'https://api.eu.jumpcloud.com/insights/directory/v1',
  in: 'https://api.in.jumpcloud.com/insights/directory/v1',
} as const;

export type DiRegion = keyof typeof DI_REGIONS;

/**
 * OAuth 2 token endpoint of service accounts (client credentials), per region: a service account of an EU or IN
 * org gets its token from that region's identity host (as JumpCloud's own CLI does), not the US one.
 */
export const OAUTH_TOKEN_URLS: Readonly<Record<DiRegion, string>> = {
  us: 'https://admin-oauth.id.jumpcloud.com/oauth2/token',
  eu: 'https://admin-oauth.id.eu.jumpcloud.com/oauth2/token',
  in: 'https://admin-oauth.id.in.jumpcloud.com/oauth2/token',
};

/** The base path every DI base URL ends with. */
export const DI_BASE_PATH = '/insights/directory/v1';

/** A base URL without trailing slashes; throws with a clear message when it is not an http(s) URL. */
export function normalizeApiUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid DI API URL "${url}": expected e.g. ${DI_REGIONS.us}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`invalid DI API URL "${url}": only http and https are supported`);
  }
  if (parsed.search || parsed.hash) throw new Error(`invalid DI API URL "${url}": no query string or fragment`);
  return url.replace(/\/+$/, '');
}
