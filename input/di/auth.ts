// Credentials of DI requests: an admin API key (`x-api-key`), or a service account's OAuth 2 client-credentials
// token (`Authorization: Bearer`) fetched from the token endpoint, cached, and renewed before it expires.
import { request, type Dispatcher } from 'undici';
import type { Clock, DiAuth, Logger } from '../types.js';
import { DiFatalError, DiTransientError } from './errors.js';
import { networkFault, statusFault } from './http-faults.js';

export interface AuthProvider {
  readonly kind: DiAuth['kind'];
  /** Headers carrying the credential for one DI request (fetches or renews the OAuth token when due). */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /** After a 401: forget the cached token. True when a new credential may fix it (OAuth), false for an API key. */
  invalidate(): boolean;
  /** Replaces every secret this provider knows (key, client secret, tokens) in `text`. */
  redact(text: string): string;
}

export interface AuthOptions {
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** Renew this long before the token's announced expiry (capped at a tenth of its lifetime). */
const REFRESH_MARGIN_MS = 60_000;

export function createAuthProvider(auth: DiAuth, opts: AuthOptions): AuthProvider {
  if (auth.kind === 'apiKey') return apiKeyProvider(auth.apiKey);
  return new OAuthProvider(auth, opts);
}

function apiKeyProvider(apiKey: string): AuthProvider {
  if (!apiKey) throw new DiFatalError('no JumpCloud API key: set JUMPCLOUD_API_KEY (or JUMPCLOUD_API_KEY_FILE)');
  const headers = { 'x-api-key': apiKey };
  return {
    kind: 'apiKey',
    headers: async () => headers,
    invalidate: () => false,
    redact: (text) => redactAll(text, [apiKey]),
  };
}

interface Token {
  readonly value: string;
  /** Clock time after which the token is renewed. */
  readonly renewAt: number;
}

class OAuthProvider implements AuthProvider {
  readonly kind = 'oauth' as const;
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private readonly secrets: string[];

  constructor(
    private readonly auth: Extract<DiAuth, { kind: 'oauth' }>,
    private readonly opts: AuthOptions,
  ) {
    if (!auth.clientId || !auth.clientSecret) {
      throw new DiFatalError('OAuth service account needs both a client id and a client secret');
    }
    this.secrets = [auth.clientSecret, basic(auth.clientId, auth.clientSecret)];
  }

  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    let token = this.token;
    if (!token || this.opts.clock.now() >= token.renewAt) token = await this.renew(signal);
    return { authorization: `Bearer ${token.value}` };
  }

  invalidate(): boolean {
    this.token = undefined;
    return true;
  }

  redact(text: string): string {
    return redactAll(text, this.token ? [...this.secrets, this.token.value] : this.secrets);
  }

  /** One token request at a time; concurrent callers share it. */
  private renew(signal?: AbortSignal): Promise<Token> {
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(signal?: AbortSignal): Promise<Token> {
    const { tokenUrl, clientId, clientSecret } = this.auth;
    const requestedAt = this.opts.clock.now();
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(tokenUrl, {
        method: 'POST',
        dispatcher: this.opts.dispatcher,
        signal,
        headers: {
          authorization: basic(clientId, clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials&scope=api',
      });
      text = await res.body.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw networkFault(err, 'OAuth token request');
    }
    if (res.statusCode !== 200) {
      const detail = this.redact(oauthErrorText(text));
      if (res.statusCode === 400 || res.statusCode === 401 || res.statusCode === 403) {
        throw new DiFatalError(
          `the OAuth token endpoint refused the service account (${res.statusCode}${detail ? `: ${detail}` : ''}): ` +
            'check its client id and client secret, and that it may use the Directory Insights API',
          res.statusCode,
          detail || undefined,
        );
      }
      throw statusFault(
        res.statusCode,
        res.headers,
        this.opts.clock.now(),
        `OAuth token request${detail ? `: ${detail}` : ''}`,
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new DiTransientError('OAuth token endpoint answered 200 with a body that is not JSON', 'bad_token_answer');
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new DiTransientError('OAuth token endpoint answered without an access_token', 'bad_token_answer');
    }
    // Lifetime is unconfirmed by JumpCloud; without expires_in, assume a conservative 5 minutes.
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 300_000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 10);
    const token = { value: body.access_token, renewAt: requestedAt + lifetimeMs - margin };
    this.token = token;
    this.opts.logger?.debug({ expiresInSec: lifetimeMs / 1000 }, 'obtained OAuth access token');
    return token;
  }
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** `error`/`error_description` of an RFC 6749 error answer, or JumpCloud's `message`, short. */
function oauthErrorText(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const parts = [j.error, j.error_description, j.message].filter(
      (v): v is string => typeof v === 'string' && v !== '',
    );
    if (parts.length > 0) return parts.join(': ').slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 200);
}

function redactAll(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[REDACTED]');
  return out;
}
