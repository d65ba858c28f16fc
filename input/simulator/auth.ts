// Who is asking, as the API decides it: an API key or an OAuth token (client credentials, POST /oauth2/token),
// then which organizations (x-org-id) or which provider's Multi-Tenant Portal (x-provider-id) the query reads.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../types.js';
import { header, headerList, HttpError } from './http.js';

/** The orgs a query reads, or the provider whose Multi-Tenant-Portal events it reads. */
export type Caller =
  | { readonly kind: 'orgs'; readonly orgIds: readonly string[] }
  | { readonly kind: 'provider'; readonly providerId: string };

export interface AuthOptions {
  readonly clock: Clock;
  /** Org ids; [''] is one org reached without x-org-id. */
  readonly orgs: readonly string[];
  readonly providers: readonly string[];
  readonly apiKeys: readonly string[];
  readonly commandRunnerKeys: readonly string[];
  readonly oauthClients: readonly { readonly clientId: string; readonly clientSecret: string }[];
  readonly tokenTtlSec: number;
  readonly requireOrgId: boolean;
  readonly unlicensedOrgs: readonly string[];
}

const NOT_ACCESSIBLE = 'is not accessible with these credentials';

export interface TokenAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class Auth {
  private readonly apiKeys: Set<string>;
  private readonly runnerKeys: Set<string>;
  private readonly clients: Map<string, string>;
  private readonly tokens = new Map<string, number>(); // token → expiry (clock ms)
  private readonly unlicensed: Set<string>;

  constructor(private readonly o: AuthOptions) {
    this.apiKeys = new Set(o.apiKeys);
    this.runnerKeys = new Set(o.commandRunnerKeys);
    this.clients = new Map(o.oauthClients.map((c) => [c.clientId, c.clientSecret]));
    this.unlicensed = new Set(o.unlicensedOrgs);
  }

  /** The first accepted API key. */
  get apiKey(): string {
    return [...this.apiKeys][0] ?? '';
  }

  /** The caller of a query, or an HttpError (401, 402, 403, 400) as the API answers. */
  authenticate(req: IncomingMessage): Caller {
    const oauth = this.credentials(req);
    const orgIds = headerList(req, 'x-org-id') ?? [];
    const providerIds = headerList(req, 'x-provider-id');
    if (providerIds !== undefined) return this.provider(providerIds, orgIds);
    if (orgIds.length === 0) {
      if (oauth || this.o.requireOrgId) throw new HttpError(403, 'Forbidden: x-org-id header is required');
      return { kind: 'orgs', orgIds: [''] };
    }
    const single = this.o.orgs.length === 1 && this.o.orgs[0] === '';
    if (!this.o.requireOrgId && single) return { kind: 'orgs', orgIds: [''] };
    for (const o of orgIds) {
      if (!this.o.orgs.includes(o)) throw new HttpError(403, `Forbidden: organization ${o} ${NOT_ACCESSIBLE}`);
      if (this.unlicensed.has(o)) throw new HttpError(402, 'Directory Insights is not enabled for your organization');
    }
    return { kind: 'orgs', orgIds };
  }

  /** Checks the key or token; true for an OAuth token (which needs x-org-id or x-provider-id). */
  private credentials(req: IncomingMessage): boolean {
    const key = header(req, 'x-api-key');
    if (key !== undefined) {
      if (this.runnerKeys.has(key)) {
        const why = 'Command Runner keys are not allowed';
        throw new HttpError(403, `Forbidden: this API key cannot access Directory Insights (${why})`);
      }
      if (!this.apiKeys.has(key)) throw new HttpError(401, 'Unauthorized: invalid API key');
      return false;
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    if (bearer === undefined) throw new HttpError(401, 'Unauthorized: missing API key');
    const exp = this.tokens.get(bearer);
    if (exp === undefined || this.o.clock.now() >= exp) {
      throw new HttpError(401, 'Unauthorized: invalid or expired token');
    }
    return true;
  }

  /**
   * x-provider-id: the provider's Multi-Tenant-Portal events only ("Example to Request Multi-Tenant Portal Events
   * Only" sends it alone). With x-org-id as well the query means two things at once: refused, naming both.
   */
  private provider(ids: readonly string[], orgIds: readonly string[]): Caller {
    if (orgIds.length > 0) {
      throw new HttpError(
        400,
        'x-provider-id and x-org-id cannot be sent together: send x-provider-id alone for the ' +
          "Multi-Tenant Portal's events, or x-org-id alone for those of the organizations",
      );
    }
    if (ids.length !== 1) throw new HttpError(400, `x-provider-id takes one provider id (got ${ids.length})`);
    const id = ids[0]!;
    if (!this.o.providers.includes(id)) throw new HttpError(403, `Forbidden: provider ${id} ${NOT_ACCESSIBLE}`);
    return { kind: 'provider', providerId: id };
  }

  /** POST /oauth2/token: client credentials in Basic auth, form grant_type=client_credentials. */
  token(req: IncomingMessage, text: string): TokenAnswer {
    const auth = /^Basic\s+(.+)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    const decoded = auth ? Buffer.from(auth, 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const id = sep < 0 ? '' : decoded.slice(0, sep);
    if (!id || this.clients.get(id) !== decoded.slice(sep + 1)) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'client authentication failed' } };
    }
    const form = new URLSearchParams(text);
    if (form.get('grant_type') !== 'client_credentials') {
      const body = { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' };
      return { status: 400, body };
    }
    const ttl = this.o.tokenTtlSec;
    const value = randomBytes(24).toString('base64url');
    this.tokens.set(value, this.o.clock.now() + ttl * 1000);
    const scope = form.get('scope') ?? 'api';
    return { status: 200, body: { access_token: value, expires_in: ttl, token_type: 'bearer', scope } };
  }

  /** Invalidates every issued token (the next call with one gets 401). */
  revokeTokens(): void {
    this.tokens.clear();
  }
}
