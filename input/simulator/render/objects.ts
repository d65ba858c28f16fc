// What directory (and Multi-Tenant-Portal) object events act on: the `resource` of a type, and the `changes` an
// update of it makes. Shapes follow the seed samples (user_update: attributes, addresses, state) and the
// description's attribute tables; detection-relevant changes (sudo, MFA, roles, policy effects) occur at low rates.
import { between, pick } from '../random.js';
import {
  admin,
  ADMIN_ROLES,
  AUTH_POLICIES,
  BACKGROUND_ADMINS,
  COMMANDS,
  GROUPS,
  POLICY_NAMES,
  randomAdmin,
  randomSystem,
  type Person,
} from '../vocab.js';
import {
  oid,
  ORG_HOLE,
  personResource,
  PROVIDER_HOLE,
  targetPerson,
  type Body,
  type Json,
  type RenderContext,
} from './common.js';

type Named = (ctx: RenderContext) => Body;

const named =
  (type: string, names: readonly string[]): Named =>
  (ctx) => ({ id: oid(ctx), type, name: pick(ctx.r, names) });

/** Resource builders by the type's object (its name without the verb). Longest prefix wins. */
const RESOURCES: readonly (readonly [string, Named])[] = [
  ['application', named('application', ['Google Workspace', 'Salesforce', 'Slack [prod]'])],
  [
    'group',
    (ctx) => ({ id: oid(ctx), type: ctx.r() < 0.7 ? 'user_group' : 'system_group', name: pick(ctx.r, GROUPS) }),
  ],
  ['integrationattribute', named('integration_attribute', ['department', 'employeeType', 'costCenter'])],
  ['invoice', (ctx) => ({ id: oid(ctx), type: 'invoice', name: `INV-2026-${between(ctx.r, 1000, 9999)}` })],
  ['mtp_download_invoice', (ctx) => ({ id: oid(ctx), type: 'invoice', name: `MSP-2026-${between(ctx.r, 1, 99)}` })],
  ['notification', named('notification', ['Certificate expires in 7 days', 'Agent out of date on 3 devices'])],
  ['organization', () => ({ id: ORG_HOLE, type: 'organization', name: 'Acme Müller GmbH' })],
  ['provider', () => ({ id: PROVIDER_HOLE, type: 'provider', name: 'Northwind MSP' })],
  [
    'system',
    (ctx) => {
      const m = randomSystem(ctx.r);
      return { id: m.id, type: 'system', hostname: m.hostname, displayName: m.displayName };
    },
  ],
  ['radiusserver', named('radius_server', ['Office Wi-Fi', 'VPN (Paris)', 'Meraki «HQ»'])],
  ['admin', (ctx) => personResource(adminTarget(ctx))],
  ['user', (ctx) => personResource(targetPerson(ctx))],
  ['policy', named('policy', POLICY_NAMES)],
  ['authnpolicy', named('authn_policy', AUTH_POLICIES)],
  ['authpolicy', named('authn_policy', AUTH_POLICIES)],
  ['iplist', named('ip_list', ['Office egress', 'VPN exits', 'Blocked – TOR exits'])],
  ['activedirectory', named('active_directory', ['corp.example.org', 'ad.acme-müller.de'])],
  ['idsource', named('idsource', ['AD Bridge – corp.example.org'])],
  ['sambadomain', named('samba_domain', ['WORKGROUP', 'CORP'])],
  ['workday', named('workday', ['Workday (prod)'])],
  ['integration', named('integration', ['Okta SCIM', 'Slack SCIM', 'Zoom SCIM'])],
  ['gsuite_directory', named('g_suite', ['example.com'])],
  ['o365_directory', named('office_365', ['example.onmicrosoft.com'])],
  ['integration_domain', named('integration_domain', ['example.com', 'corp.example.org'])],
  ['integration_default_domain', named('integration_domain', ['example.com'])],
  ['msp_ticket', named('ticket', ['[JumpCloud] Device offline: JDOE-LAPTOP', '[JumpCloud] User locked out'])],
  ...['connectwise', 'autotask', 'syncro'].flatMap((p): (readonly [string, Named])[] =>
    ['integration', 'billing_mapping', 'company_mapping', 'settings'].map((k) => [
      `${p}_${k}`,
      named(`${p}_${k}`, [`${p} ${k.replace('_', ' ')}`]),
    ]),
  ),
];

/** The admin an admin event is about: the scenario's target, a new one for admin_create, else one of the org's. */
export function adminTarget(ctx: RenderContext): Person {
  const t = ctx.target;
  if (t && t.kind === 'admin') return t;
  return ctx.entry.type === 'admin_create' ? admin(between(ctx.r, BACKGROUND_ADMINS, 30)) : randomAdmin(ctx.r);
}

/** The object of a type name: `user_activation_schedule_create` → user, `connectwise_billing_mapping_update` → … */
export function resourceOf(ctx: RenderContext): Body {
  const type = ctx.entry.type;
  let best: readonly [string, Named] | undefined;
  for (const row of RESOURCES) if (type.startsWith(row[0]) && (!best || row[0].length > best[0].length)) best = row;
  return best ? best[1](ctx) : { id: oid(ctx), type: type.slice(0, type.lastIndexOf('_')) };
}

const change = (field: string, from: Json | undefined, to: Json): Body =>
  from === undefined ? { field, to } : { field, from, to };

/** Changes a user_update makes: the seed samples' kinds, plus the security-relevant ones at low rates. */
export function userChanges(ctx: RenderContext, p: Person): Body[] {
  const r = ctx.r;
  const out: Body[] = [];
  for (let i = between(r, 1, 4); i > 0; i--) {
    const k = r();
    if (k < 0.25) {
      out.push(
        change(
          'attributes',
          [{ name: 'Division', id: oid(ctx), _id: oid(ctx), value: 'Marketing' }],
          [
            {
              name: 'Division',
              id: oid(ctx),
              _id: oid(ctx),
              value: pick(r, ['Sales', 'R&D', 'Ventes – Île-de-France']),
            },
          ],
        ),
      );
    } else if (k < 0.4) {
      const paris = {
        country: 'FR',
        poBox: '',
        streetAddress: '54 rue des Petites Écuries',
        postalCode: '75010',
        locality: 'Paris',
        id: oid(ctx),
        type: 'work',
      };
      const berlin = {
        country: 'DE',
        poBox: '',
        streetAddress: 'Straße des 17. Juni 135',
        postalCode: '10623',
        locality: 'Berlin',
        id: oid(ctx),
        type: 'work',
      };
      out.push(change('addresses', [paris], [berlin]));
    } else if (k < 0.55) {
      out.push(change('displayname', p.name, `${p.name} (${pick(r, ['ext', 'contractor', 'on leave'])})`));
    } else if (k < 0.65) out.push(change('company', 'SEKOIA.IO', 'Sekoia.io'), change('location', 'Paris', 'France'));
    else if (k < 0.72) out.push(change('state', 'ACTIVATED', 'SUSPENDED'), change('suspended', false, true));
    else if (k < 0.78) out.push(change('jobTitle', 'Engineer', 'Senior Engineer'));
    else if (k < 0.84) out.push(change('account_locked', true, false));
    else if (k < 0.89) out.push(change('sudo', false, true));
    else if (k < 0.93) {
      out.push(change('mfa', { configured: true, exclusion: false }, { configured: true, exclusion: true }));
    } else if (k < 0.96) out.push(change('enable_user_portal_multifactor', true, false));
    else if (k < 0.98) out.push(change('totp_enabled', true, false));
    else out.push(change('passwordless_sudo', false, true));
  }
  return out;
}

/** The changes of an update (or, for some creates, the fields set: `to` only, as SCIM creates show them). */
export function changesOf(ctx: RenderContext, resource: Body): Body[] | undefined {
  const r = ctx.r;
  const type = ctx.entry.type;
  const verb = type.slice(type.lastIndexOf('_') + 1);
  if (verb === 'create' || verb === 'include' || verb === 'add' || verb === 'activate') {
    if (r() < 0.5) return undefined;
    return [
      change('name', undefined, (resource.name ?? resource.username ?? resource.email ?? '') as Json),
      change('description', undefined, pick(r, ['', 'Created by onboarding', 'Managed by "IT"'])),
    ];
  }
  if (verb !== 'update' && verb !== 'patch') return undefined;
  if (type.startsWith('admin'))
    return [
      pick(r, [
        change('roleName', pick(r, ADMIN_ROLES), pick(r, ADMIN_ROLES)),
        change('lastname', '', 'Edited'),
        change('enableMultiFactor', true, false),
        change('suspended', false, true),
      ]),
    ];
  if (type.startsWith('authnpolicy') || type.startsWith('authpolicy')) {
    const mfa = { action: 'allow', obligations: { mfa: { required: true } } };
    const mfaDropped = change('effect', mfa, { action: 'allow' });
    const ipsDropped = change('conditions', { ipAddressIn: [oid(ctx)] }, null);
    return [pick(r, [change('disabled', false, true), mfaDropped, ipsDropped])];
  }
  if (type.startsWith('iplist')) return [change('ips', ['203.0.113.0/24'], ['203.0.113.0/24', '198.51.100.7'])];
  if (type.startsWith('policy')) {
    const setting = (value: boolean): Json => [{ configFieldName: 'setting', value }];
    return [change('values', setting(true), setting(false))];
  }
  if (type.startsWith('system')) {
    return [
      pick(r, [
        change('displayName', resource.displayName ?? '', `${String(resource.displayName)}-old`),
        change('allowSshRootLogin', false, true),
        change('allowMultiFactorAuthentication', true, false),
      ]),
    ];
  }
  if (type.startsWith('group')) {
    return [
      pick(r, [
        change('name', resource.name ?? '', `${String(resource.name)} (archived)`),
        change('attributes', null, { sudo: { enabled: true, withoutPassword: false } }),
      ]),
    ];
  }
  return [change('name', 'Old name', pick(r, ['New name', 'Nouveau nom – 2026', 'Name with "quotes"']))];
}

/** The command a command event is about. */
export function commandResource(ctx: RenderContext): { resource: Body; script: readonly [string, string, string] } {
  const script = pick(ctx.r, COMMANDS);
  return { resource: { id: oid(ctx), type: 'command', name: script[0] }, script };
}
