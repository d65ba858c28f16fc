// Event bodies of the simulator: one renderer per family of the catalog (render/), chosen by the entry's family.
// A body is everything of an event but its id and timestamp, with the org's and provider's ids left as holes
// (render/common.ts) that the store fills per stream: one rendered body serves every org.
import type { CatalogEntry, Family } from './entry.js';
import { prng } from './random.js';
import { radiusAuth, ssoAuth, ldap, systemAuth, systemEvent } from './render/access.js';
import {
  accessManagement,
  ai,
  alert,
  asset,
  certificate,
  mdm,
  notificationChannel,
  objectStorage,
  passwordManager,
  passwordVault,
  report,
  risk,
  saasManagement,
  software,
} from './render/apps.js';
import { ORG_HOLE, PROVIDER_HOLE, type Body, type RenderContext } from './render/common.js';
import { account, association, command, mfaEnrollment, objectChange, portalAuth } from './render/directory.js';
import type { Identity } from './vocab.js';

export { hash32, hashString, hex, prng, type Rng } from './random.js';
export { ORG_HOLE, PROVIDER_HOLE, type Body } from './render/common.js';

const RENDERERS: Record<Family, (ctx: RenderContext) => Body> = {
  portal_auth: portalAuth,
  object_change: objectChange,
  association,
  account,
  mfa_enrollment: mfaEnrollment,
  command,
  sso_auth: ssoAuth,
  radius_auth: radiusAuth,
  ldap,
  system_auth: systemAuth,
  system_event: systemEvent,
  password_manager: passwordManager,
  password_vault: passwordVault,
  software,
  mdm,
  notification_channel: notificationChannel,
  object_storage: objectStorage,
  alert,
  saas_management: saasManagement,
  access_management: accessManagement,
  report,
  asset,
  ai,
  risk,
  certificate,
};

/** What a scenario step decides about an event; anything unset is drawn from the seed. */
export interface RenderChoices {
  readonly stream?: 'org' | 'provider';
  /** Done by an admin of the org's provider (org streams of a simulator with providers). */
  readonly byProvider?: boolean;
  readonly actor?: Identity;
  readonly target?: Identity;
  readonly success?: boolean;
  readonly mfa?: boolean;
  readonly clientIp?: string;
  readonly country?: string;
}

/** The body of one event of `entry`, deterministic in `seed` (a 32-bit value) and the choices. */
export function renderBody(entry: CatalogEntry, seed: number, choices: RenderChoices = {}): Body {
  const stream = choices.stream ?? 'org';
  const byProvider = stream === 'provider' || !!choices.byProvider;
  const ctx: RenderContext = { ...choices, r: prng(seed), entry, stream, byProvider };
  return RENDERERS[entry.family](ctx);
}

/** Whether a body is provider activity (what exclude_provider_activity leaves out). */
export function isProviderActivity(body: Body): boolean {
  const by = body.initiated_by;
  const byProvider = typeof by === 'object' && by !== null && !Array.isArray(by) && by.provider === PROVIDER_HOLE;
  return body.provider === PROVIDER_HOLE || byProvider;
}

/** The holes of a body's JSON text: their kinds and their offsets in its UTF-8 bytes. */
export function findHoles(json: string): { kinds: ('org' | 'provider')[]; offsets: number[] } {
  const kinds: ('org' | 'provider')[] = [];
  const offsets: number[] = [];
  const re = new RegExp(`${ORG_HOLE}|${PROVIDER_HOLE}`, 'g');
  let last = 0;
  let bytes = 0;
  for (let m = re.exec(json); m; m = re.exec(json)) {
    bytes += Buffer.byteLength(json.slice(last, m.index), 'utf8');
    kinds.push(m[0] === ORG_HOLE ? 'org' : 'provider');
    offsets.push(bytes);
    bytes += m[0].length;
    last = m.index + m[0].length;
  }
  return { kinds, offsets };
}

/** The text with its holes filled. */
export function fillHoles(json: string, organization: string, provider: string): string {
  return json.split(ORG_HOLE).join(organization).split(PROVIDER_HOLE).join(provider);
}
