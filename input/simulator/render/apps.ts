// The other services, each after its attribute table in the API description: password manager and vault,
// software, MDM, notification channels, object storage, alerts, SaaS management, access management, reports, asset
// management, AI (genai, aigw, ai_admin) and generic DI (risk events, certificates). Those tables spell the user
// agent `user_agent` (password manager, vault, access management, reports, AI) or `useragent` (generic DI): kept so.
import { between, hex, pick, uuid } from '../random.js';
import { PASSWORD_ITEMS, randomSystem } from '../vocab.js';
import {
  adminBy,
  initiatedBy,
  oid,
  origin,
  outcome,
  person,
  personResource,
  tail,
  targetPerson,
  targetSystem,
  userAgent,
  verbOf,
  type Body,
  type RenderContext,
} from './common.js';

const ORG_LEVEL = /_(enable|disable)$|_policy_|_settings_update$/;
const ADMIN_ACTS = /_user_(enable|disable|update|remove|re-enable)$|backup_request_(approve|reject)$/;
const FOLDERS = ['Shared – IT', 'NB folder', 'Finance "Q3"'];

/** Password manager: a user's vault actions from the desktop app or extension; org switches by an admin. */
export function passwordManager(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const byAdmin = ORG_LEVEL.test(type) || ADMIN_ACTS.test(type);
  const p = person(ctx, byAdmin ? 'admin' : 'user');
  const where = origin(ctx);
  const out: Body = { initiated_by: { ...initiatedBy(ctx, p), email: p.email } };
  if (/_item|items_/.test(type)) {
    out.resource = type.includes('items_')
      ? { type: 'items', count: between(r, 5, 400), format: pick(r, ['csv', 'json']) }
      : { id: oid(ctx), type: 'password_item', name: pick(r, PASSWORD_ITEMS) };
  } else if (type.includes('folder')) out.resource = { id: oid(ctx), type: 'folder', name: pick(r, FOLDERS) };
  else if (type.includes('_user_') || type.includes('sharedfolders_policy')) {
    out.resource = personResource(targetPerson(ctx));
  } else if (type.includes('backup')) out.resource = { id: oid(ctx), type: 'backup' };
  if (type.includes('folder_member') || type.includes('folder_group')) {
    out.association = personResource(targetPerson(ctx));
  }
  if (type.endsWith('_update') && !type.includes('app_update')) {
    out.changes = [{ field: 'folder name', from: '', to: 'NB folder' }];
  }
  if (!byAdmin) {
    const m = randomSystem(r);
    out.device = { id: m.id, name: m.hostname, app_version: `1.${between(r, 10, 40)}.${between(r, 0, 9)}` };
  }
  const ok = outcome(ctx, 0.995);
  if (!ok) out.error_message = "This user can't be updated because it's the last folder admin";
  return { ...out, geoip: where.geoip, user_agent: userAgent(r), ...tail(ctx, { success: ok, ip: where.ip }) };
}

export function passwordVault(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const byAdmin = /^passwordvault_(enable|disable|user_enable|user_disable)$/.test(type);
  const where = origin(ctx);
  const p = person(ctx, byAdmin ? 'admin' : 'user');
  const out: Body = { initiated_by: { ...initiatedBy(ctx, p), email: p.email } };
  const kind = type.includes('website')
    ? 'website'
    : type.includes('credential')
      ? 'credential'
      : type.includes('folder')
        ? type.includes('shared')
          ? 'shared_folder'
          : 'personal_folder'
        : 'user';
  const names = kind === 'website' ? ['https://github.com', 'https://intranet.example.com'] : PASSWORD_ITEMS;
  out.resource =
    kind === 'user' ? personResource(targetPerson(ctx)) : { id: oid(ctx), type: kind, name: pick(r, names) };
  if (/share|_user_|_group_/.test(type) && kind !== 'user') out.association = personResource(targetPerson(ctx));
  if (type.endsWith('_update')) out.changes = [{ field: 'enabled', from: 'false', to: 'true' }];
  const end = tail(ctx, { success: outcome(ctx, 0.995), ip: where.ip });
  return { ...out, geoip: where.geoip, user_agent: userAgent(r), ...end };
}

const SOFTWARE = [
  ['Google Chrome', 'Google', '/Applications/Google Chrome.app'],
  ['Slack', 'Slack Technologies', 'C:\\Users\\jdoe\\AppData\\Local\\slack\\slack.exe'],
  ['Zoom', 'Zoom Video Communications', '/Applications/zoom.us.app'],
  ['AnyDesk', 'AnyDesk Software', 'C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe'],
] as const;

export function software(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const m = targetSystem(ctx);
  const [name, publisher, path] = pick(r, SOFTWARE);
  const version = `${between(r, 90, 130)}.${between(r, 0, 9)}`;
  const out: Body = type.endsWith('_request') ? { initiated_by: adminBy(ctx) } : {};
  Object.assign(out, {
    system: { id: m.id, type: 'system' },
    resource: { id: m.id, type: 'system' },
    application: { name, version, path, publisher, uninstall_string: `${path}\\uninstall.exe` },
  });
  if (type.startsWith('software_change')) {
    out.changes = [{ field: 'version', from: `${between(r, 80, 89)}.0`, to: version }];
  }
  out.app_management_source = pick(r, ['JumpCloud App Catalog', 'Detected on device']);
  return { ...out, ...tail(ctx, { success: undefined }) };
}

export function mdm(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const ok = outcome(ctx, 0.93);
  const windows = type !== 'mdm_command_result' || r() < 0.3;
  const request = pick(r, ['RestartDevice', 'DeviceLock', 'InstallProfile', 'EraseDevice', 'DeviceInformation']);
  const out: Body = {
    mdm_type: windows ? 'windows' : 'apple',
    device_object_id: targetSystem(ctx).id,
    device_manager_object_id: oid(ctx),
  };
  const h = (): string => hex(between(r, 0, 2 ** 31), 8);
  if (windows) out.windows_device_uuid = `D${h()}${h()}`.toUpperCase();
  out.initiated_by = { email: person(ctx, 'admin').email };
  if (type === 'mdm_command_result') {
    Object.assign(out, {
      command_uuid: uuid(r),
      request_type: request,
      command: { request_type: request },
      status: ok ? 'Acknowledged' : 'Error',
    });
    const failed = 'Profile installation failed.';
    if (!ok) {
      out.error_chain = [
        {
          error_code: 12021,
          error_domain: 'MCMDMErrorDomain',
          localized_description: failed,
          us_english_description: failed,
        },
      ];
    }
  }
  out.result = ok ? (type === 'device_enrollment' ? 'successful enrollment of device' : 'success') : 'failure';
  out.geoip = origin(ctx).geoip;
  return { ...out, ...tail(ctx, { success: ok }) };
}

export function notificationChannel(ctx: RenderContext): Body {
  const r = ctx.r;
  const a = person(ctx, 'admin');
  return {
    name: pick(r, ['software install failed notification channel', 'Alerts → #secops']),
    type: pick(r, ['email', 'slack', 'webhook']),
    description: 'This channel will notify the admin when a software install fails',
    channel_object_id: oid(ctx),
    correlation: { id: oid(ctx) },
    config: [{ name: a.name, email: a.email }, { role_object_id: oid(ctx) }],
    initiated_by: initiatedBy(ctx, a),
    ...tail(ctx, { success: outcome(ctx, 0.99), ip: origin(ctx).ip }),
  };
}

export function objectStorage(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const out: Body = {
    result: outcome(ctx, 0.97) ? 'Success' : 'Failure',
    referrer_object_id: oid(ctx),
    referrer_type: 'SOFTWARE_APP',
    object_storage_item_object_id: oid(ctx),
    object_storage_item_version_object_id: oid(ctx),
    object_storage_item_version_name: pick(r, ['GoogleChrome.pkg', 'Slack Setup.msi', 'agent-installer (v2).exe']),
    object_storage_item_version_size: between(r, 1e6, 4e8),
    object_storage_item_version_sha_256_sum: Array.from({ length: 8 }, () => hex(between(r, 0, 2 ** 31), 8)).join(''),
    total_software_item_count: between(r, 10, 400),
    total_space_used: between(r, 1e9, 2e11),
  };
  if (type.endsWith('download_url_request')) out.system_object_id = targetSystem(ctx).id;
  return { ...out, ...tail(ctx, { success: undefined }) };
}

export function alert(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const rule = type.startsWith('rule_');
  const u = targetPerson(ctx);
  const out: Body = {
    initiated_by: type === 'alert_created' ? { type: 'system', id: 'rule-engine' } : adminBy(ctx),
    category: pick(r, ['Directory', 'System', 'Identity']),
    severity: pick(r, ['Low', 'Medium', 'High', 'Critical']),
    correlation: { id: oid(ctx) },
    geoip: origin(ctx).geoip,
  };
  const rules = ['Failed logins > 10 in 5 min', 'New admin created'];
  out.resource = rule
    ? { id: oid(ctx), type: 'rule', name: pick(r, rules) }
    : {
        id: oid(ctx),
        context: JSON.stringify({ user: u.username, reason: 'failed logins' }),
        source_id: u.id,
        source_type: 'user',
        reference_id: oid(ctx),
      };
  if (type.endsWith('_updated') || type === 'rule_modified') {
    out.changes = [
      { field: 'Status', from: 'Open', to: pick(r, ['Acknowledged', 'Resolved']) },
      { field: 'Remark', from: '', to: 'Acked alert' },
    ];
  }
  out.username = u.username;
  return { ...out, ...tail(ctx, { success: ctx.success ?? true, ip: origin(ctx).ip }) };
}

export function saasManagement(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const u = targetPerson(ctx);
  const app = pick(r, [
    ['jumpcloud', 'JumpCloud', 'Identity and Access'],
    ['notion', 'Notion', 'Productivity'],
    ['dropbox', 'Dropbox', 'File Storage'],
    ['chatgpt', 'ChatGPT', 'AI'],
  ] as const);
  const where = origin(ctx);
  const out: Body = {
    initiated_by: type.endsWith('_discover') || type.endsWith('login_event') ? initiatedBy(ctx, u) : adminBy(ctx),
    geoip: where.geoip,
    username: u.username,
    resource: { application_id: app[0], application_name: app[1], application_category: app[2] },
    account_id: oid(ctx),
    catalog_app_id: app[0],
    login_identifier: u.email,
    detail: `SaaS Management ${verbOf(type) === 'event' ? 'login event captured' : words(type, 'saas_management_')}.`,
  };
  if (type.includes('review') || type.endsWith('_update')) {
    out.changes = [{ field: 'status', from: 'UNAPPROVED', to: 'APPROVED' }];
  }
  return { ...out, ...tail(ctx, { success: undefined, ip: where.ip }) };
}

export function accessManagement(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const u = targetPerson(ctx);
  const m = randomSystem(r);
  const where = origin(ctx);
  const requester = type === 'access_management_access_request';
  const out: Body = {
    pid: uuid(r),
    access_request_id: oid(ctx),
    initiated_by: requester ? { ...initiatedBy(ctx, u), email: u.email } : adminBy(ctx),
    resource: { type: 'systemuser', id: u.id, name: u.username },
    workflow: {
      type: 'access-workflow',
      id: oid(ctx),
      name: 'Temporary admin on device',
      desc: 'Grants sudo for 4 hours',
    },
  };
  if (type === 'access_management_access_request_approval') {
    out.changes = [{ field: 'status', from: 'PENDING', to: pick(r, ['APPROVED', 'DENIED']) }];
  }
  if (type === 'access_management_association_change' || requester) {
    const from = { name: m.hostname, type: 'system', object_id: m.id };
    const to = { name: u.username, type: 'user', object_id: u.id };
    out.association = {
      op: 'add',
      connection: { from, to },
      additionalAttributes: { sudo: { enabled: r() < 0.6, withoutPassword: false } },
    };
  }
  if (type.includes('flow_') || type.includes('settings')) {
    out.changes = [{ field: 'approvers', from: [], to: [person(ctx, 'admin').email] }];
  }
  const ok = outcome(ctx, 0.98);
  if (!ok) out.error_message = 'workflow has no approver';
  return { ...out, geoip: where.geoip, user_agent: userAgent(r), ...tail(ctx, { success: ok, ip: where.ip }) };
}

export function report(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const run = type.startsWith('scheduled_report_run');
  const out: Body = { initiated_by: run ? { type: 'system' } : adminBy(ctx) };
  out.resource = {
    name: pick(r, ['users to devices', 'Inactive users (90 d)', 'Admins & roles']),
    id: oid(ctx),
    description: 'test example description',
    resources: ['users', 'devices'],
    search_request: {},
    configuration: {},
  };
  if (type.startsWith('scheduled')) {
    (out.resource as Body).schedule = { cron: '0 7 * * 1', timezone: 'Europe/Paris', format: 'csv' };
  }
  if (type.endsWith('_update')) out.changes = [{ field: 'name', from: 'users-to-devices', to: 'users to devices' }];
  if (type === 'scheduled_report_run_failed') out.error_message = 'export timed out after 300 s';
  if (run) return { ...out, ...tail(ctx, { success: type.endsWith('_success') }) };
  return { ...out, ...consoleTail(ctx, where) };
}

/** The closing fields of an admin's action in the console: auth method, origin, user agent, tail. */
function consoleTail(ctx: RenderContext, where: { geoip: Body; ip: string }): Body {
  const end = tail(ctx, { success: undefined, ip: where.ip });
  return { auth_method: 'session', geoip: where.geoip, user_agent: userAgent(ctx.r), ...end };
}

const words = (type: string, prefix: string): string => type.replace(prefix, '').replace(/_/g, ' ');

export function asset(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const out: Body = { initiated_by: adminBy(ctx), geoip: where.geoip };
  if (type.includes('_asset_')) {
    out.resource = {
      id: oid(ctx).toUpperCase(),
      asset_type: pick(r, ['DEVICE', 'ACCESSORY', 'LICENSE']),
      name: pick(r, ['MacBook Pro 16', 'Dell U2723QE', 'Yubikey 5C']),
      data_source: pick(r, ['Not Connected', 'JumpCloud']),
    };
  }
  if (type.endsWith('_update')) out.changes = [{ field: 'Name', from: 'Desktop-01', to: 'Desktop-02' }];
  out.detail = `Asset Management ${words(type, 'asset_management_')}.`;
  return { ...out, ...tail(ctx, { success: undefined, ip: where.ip }) };
}

/** genai chats, AI gateway sessions, MCP servers and redirect URIs. */
export function ai(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const out: Body = { initiated_by: adminBy(ctx) };
  if (type.startsWith('genai')) {
    const chats = ['Reset Mfa of user', 'New chat', 'Why is “jdoe” locked?'];
    out.resource = { name: pick(r, chats), id: oid(ctx), type: 'chat' };
  } else if (type.startsWith('aigw')) {
    out.resource = { name: pick(r, ['completion', 'embedding']), id: oid(ctx), type: 'inference', session_id: uuid(r) };
  } else {
    out.resource = {
      application_id: oid(ctx),
      id: oid(ctx),
      name: pick(r, ['github-mcp', 'jira "prod"']),
      prefix: 'smr',
      target_url: 'https://mcp.example.com/sse',
    };
  }
  if (type.endsWith('_updated') || type.endsWith('_update')) {
    out.changes = [{ field: 'title', from: 'New chat', to: 'Reset Mfa of user' }];
  }
  if (type === 'aigw_session_activity') {
    out.changes = [{ field: 'route', from: '/v1/chat', to: '/v1/chat/completions' }];
  }
  return { ...out, ...consoleTail(ctx, where) };
}

/** Access risk events: created by the risk engine about a user, resolved by an admin. */
export function risk(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const u = targetPerson(ctx);
  const where = origin(ctx);
  const created = type === 'risk_event_created';
  const out: Body = { initiated_by: created ? { type: 'system', name: 'risk-engine' } : adminBy(ctx) };
  out.resource = { id: u.id, type: 'user', name: u.username };
  out.changes = created
    ? [
        { field: 'risk_level', from: null, to: pick(r, ['low', 'medium', 'high']) },
        { field: 'reason', from: null, to: pick(r, ['impossible_travel', 'new_device', 'anonymous_ip']) },
      ]
    : [{ field: 'state', from: 'OPEN', to: pick(r, ['RESOLVED', 'DISMISSED']) }];
  return { ...out, geoip: where.geoip, useragent: userAgent(r), ...tail(ctx, { success: undefined, ip: where.ip }) };
}

export function certificate(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const u = targetPerson(ctx);
  const where = origin(ctx);
  const selfService = type === 'cert_issued_self_service' || type === 'cert_issued_scep';
  const out: Body = { initiated_by: selfService ? initiatedBy(ctx, u) : adminBy(ctx) };
  out.resource =
    type === 'ca_created'
      ? { id: oid(ctx), type: 'ca', name: 'CN=Acme Root CA 2026' }
      : {
          id: oid(ctx),
          type: 'certificate',
          name: `CN=${u.username}`,
          serial_number: hex(between(r, 0, 2 ** 31), 8).toUpperCase(),
        };
  out.changes = [{ field: 'not_after', from: null, to: `2027-0${between(r, 1, 9)}-15T00:00:00Z` }];
  return { ...out, geoip: where.geoip, useragent: userAgent(r), ...tail(ctx, { success: undefined, ip: where.ip }) };
}
