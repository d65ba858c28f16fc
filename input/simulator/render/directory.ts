// Directory families: portal logins, object changes, associations, account state, MFA enrollment, commands.
// Shapes from the seed samples (admin_login, user_update, association_change), Elastic's test events and the
// description's Directory and MTP attribute tables.
import { between, pick } from '../random.js';
import { AUTH_POLICIES, randomSystem, randomUser, type Person } from '../vocab.js';
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
  type Body,
  type RenderContext,
} from './common.js';
import { adminTarget, changesOf, commandResource, resourceOf, userChanges } from './objects.js';

const MFA_TYPES = ['totp', 'duo', 'webauthn', 'jumpcloud_protect', 'push'];

/** Which policies an authentication went through (auth_context.policies_applied). */
export function policiesApplied(ctx: RenderContext): Body[] {
  const out: Body[] = [];
  for (let i = between(ctx.r, 1, 3); i > 0; i--) {
    out.push({
      metadata: { resource_type: 'APPLICATION', action: pick(ctx.r, ['ALLOW', 'MFA', 'DENY']) },
      name: pick(ctx.r, AUTH_POLICIES),
      id: oid(ctx),
    });
  }
  return out;
}

/** admin_login_attempt, user_login_attempt: the admin or user portal. */
export function portalAuth(ctx: RenderContext): Body {
  const r = ctx.r;
  const admin = ctx.entry.type !== 'user_login_attempt';
  const who = person(ctx, admin ? 'admin' : 'user');
  const where = origin(ctx, who);
  const ok = outcome(ctx, admin ? 0.92 : 0.88);
  const mfa = ctx.mfa ?? (ok && r() < 0.7);
  const out: Body = { initiated_by: initiatedBy(ctx, who), geoip: where.geoip, useragent: userAgent(r) };
  if (!admin) {
    const methods: Body = { password: { success: ok || r() < 0.3 } };
    if (mfa) methods[pick(r, ['totp', 'webauthn', 'duo'])] = { success: ok };
    out.auth_context = { auth_methods: methods, policies_applied: policiesApplied(ctx) };
  }
  out.mfa = mfa;
  if (mfa) out.mfa_meta = { type: pick(r, MFA_TYPES) };
  if (!ok) {
    out.error_message = admin
      ? pick(r, ['invalid credentials', 'MFA "push" timed out', 'account locked\\suspended'])
      : pick(r, [
          'Invalid username or password',
          'TOTP code is invalid',
          'Your account has been locked',
          'password expired',
        ]);
  } else if (r() < 0.3) out.error_message = null;
  out.target_resource = { type: admin ? 'admin_portal' : 'user_portal' };
  return { ...out, ...tail(ctx, { success: ok, ip: where.ip }) };
}

/** An admin creates, updates or deletes an object of the directory or of the Multi-Tenant Portal. */
export function objectChange(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const resource = resourceOf(ctx);
  const out: Body = { initiated_by: adminBy(ctx), geoip: where.geoip, resource, useragent: userAgent(r) };
  const changes = type === 'user_update' ? userChanges(ctx, targetOf(ctx, resource)) : changesOf(ctx, resource);
  if (changes) out.changes = changes;
  out.auth_method = r() < 0.7 ? 'session' : 'api key';
  if (type.endsWith('_provision')) {
    const app = pick(r, ['Slack', 'Zoom', 'Atlassian Cloud', 'Salesforce']);
    out.application = { id: oid(ctx), name: app.toLowerCase(), display_label: app };
    out.message_chain = { response_code: '201', response_message: `User provisioned in ${app}`, message_details: 'OK' };
    out.correlation = { id: oid(ctx), type: 'user_import' };
  } else if (r() < 0.3) out.correlation = {};
  if (type.includes('_schedule_')) out.scheduled_date = `2026-0${between(r, 1, 9)}-0${between(r, 1, 9)}T08:00:00Z`;
  if (type === 'group_warning') out.error_message = 'member query matched 0 users: attribute "department" is empty';
  // organization_create carries no success; some updates neither (seed sample user_update).
  const ok = ctx.success ?? r() < 0.99;
  const silent = type === 'organization_create' || (type === 'user_update' && r() < 0.3);
  if (!ok) out.error_message = pick(r, ['Pug: render error on line 1', 'username already exists', 'object not found']);
  return { ...out, ...tail(ctx, { success: silent && ctx.success === undefined ? undefined : ok, ip: where.ip }) };
}

function targetOf(ctx: RenderContext, resource: Body): Person {
  const t = ctx.target;
  if (t && t.kind !== 'system') return t;
  return { ...randomUser(ctx.r), id: String(resource.id), username: String(resource.username) };
}

/** association_change and the admin-rights grants: an object bound to another, with sudo attributes. */
export function association(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const out: Body = { initiated_by: adminBy(ctx), geoip: where.geoip, useragent: userAgent(r) };
  const grant = type.endsWith('_grant') || type.endsWith('_granted');
  const sudo = { sudo: { enabled: true, withoutPassword: r() < 0.3 } };
  if (type === 'association_change') {
    out.association = {
      op: ctx.r() < 0.75 ? 'add' : 'remove',
      action_source: r() < 0.9 ? 'manual' : 'directory_sync',
      ...connection(ctx),
      attributes: null,
    };
    const c = (out.association as Body).connection as { from: Body; to: Body };
    if (c.to.type === 'user' && (c.from.type === 'system' || c.from.type === 'system_group') && r() < 0.3) {
      (out.association as Body).attributes = sudo;
    }
  } else if (type.startsWith('user_group_admin')) {
    const group = { name: pick(r, ['Engineering', 'Mac fleet admins']), type: 'user_group', object_id: oid(ctx) };
    out.resource = { id: group.object_id, type: 'user_group', name: group.name };
    const from = { name: 'All systems', type: 'system_group', object_id: oid(ctx) };
    out.association = {
      op: grant ? 'add' : 'remove',
      action_source: 'manual',
      connection: { from, to: group },
      attributes: grant ? sudo : null,
    };
  } else {
    const u = targetPerson(ctx);
    const m = randomSystem(r);
    out.resource = personResource(u);
    const from = { name: m.hostname, type: 'system', object_id: m.id };
    const to = { name: u.username, type: 'user', object_id: u.id };
    out.association = {
      op: grant ? 'add' : 'remove',
      action_source: 'manual',
      connection: { from, to },
      attributes: grant ? sudo : null,
    };
  }
  out.auth_method = 'session';
  return { ...out, ...tail(ctx, { success: ctx.success ?? true, ip: where.ip }) };
}

/** from → to of an association: the scenario's target user or system, else a random pair of kinds. */
function connection(ctx: RenderContext): Body {
  const r = ctx.r;
  const end = (type: string, name: string, id: string): Body => ({ name, type, object_id: id });
  const t = ctx.target;
  if (t?.kind === 'system') {
    return { connection: { from: end('system_group', 'Mac fleet', oid(ctx)), to: end('system', t.hostname, t.id) } };
  }
  const u = t ?? randomUser(r);
  const m = randomSystem(r);
  const kind = t ? 0 : between(r, 0, 4);
  const pairs = [
    () => [end('system', m.hostname, m.id), end('user', u.username, u.id)],
    () => [end('user_group', pick(r, ['Engineering', 'Contractors']), oid(ctx)), end('user', u.username, u.id)],
    () => [end('system_group', 'Mac fleet', oid(ctx)), end('system', m.hostname, m.id)],
    () => [end('application', pick(r, ['slack', 'aws']), oid(ctx)), end('user_group', 'All Users', oid(ctx))],
    () => [end('policy', pick(r, ['FileVault 2', 'Screen lock 5 min']), oid(ctx)), end('system', m.hostname, m.id)],
  ];
  const [from, to] = pairs[kind]!();
  return { connection: { from: from!, to: to! } };
}

/** Self-service and system notices about an account: lockouts, passwords, activation, suspension. */
export function account(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const adminAccount = type.startsWith('admin_');
  const subject = adminAccount ? adminTarget(ctx) : targetPerson(ctx);
  const notice = /_(expired|warning_email|activation_email)$/.test(type);
  const byAdmin = /_(unlocked|suspended|unsuspended|unsuspend)$/.test(type);
  const out: Body = {};
  if (notice) out.initiated_by = { type: 'system' };
  else out.initiated_by = byAdmin ? adminBy(ctx) : initiatedBy(ctx, ctx.actor ?? subject);
  const resource = personResource(subject);
  if (notice) Object.assign(resource, { recipient_email: subject.email, email_type: 'company', name: subject.name });
  out.resource = resource;
  if (type.endsWith('password_change')) out.changes = [{ field: 'password' }];
  if (type.endsWith('_unlocked')) out.changes = [{ field: 'account_locked', from: true, to: false }];
  if (type.endsWith('_suspended')) {
    out.changes = [
      { field: 'suspended', from: false, to: true },
      { field: 'state', from: 'ACTIVATED', to: 'SUSPENDED' },
    ];
  }
  if (type.endsWith('unsuspended') || type.endsWith('_unsuspend')) {
    out.changes = [{ field: 'suspended', from: true, to: false }];
  }
  if (type.endsWith('lockout')) out.error_message = 'too many failed login attempts';
  if (notice) return { ...out, ...tail(ctx, { success: true }) };
  const where = origin(ctx);
  const end = tail(ctx, { success: ctx.success ?? true, ip: where.ip });
  return { ...out, geoip: where.geoip, useragent: userAgent(r), ...end };
}

/** TOTP enrollment of a user or an admin: started and finished by them, deleted or disabled by an admin. */
export function mfaEnrollment(ctx: RenderContext): Body {
  const type = ctx.entry.type;
  const subject = type.startsWith('admin_') ? adminTarget(ctx) : targetPerson(ctx);
  const removal = type.endsWith('_delete_enrollment') || type.endsWith('_disable');
  const where = origin(ctx);
  const out: Body = {
    initiated_by: removal ? adminBy(ctx) : initiatedBy(ctx, ctx.actor ?? subject),
    geoip: where.geoip,
    resource: personResource(subject),
    useragent: userAgent(ctx.r),
    mfa_meta: { type: 'totp' },
  };
  if (removal) out.changes = [{ field: 'totp_enabled', from: true, to: false }];
  out.auth_method = 'session';
  return { ...out, ...tail(ctx, { success: ctx.success ?? true, ip: where.ip }) };
}

/** Commands (create, update, run, delete), their uploaded files and their results. */
export function command(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const where = origin(ctx);
  const { resource, script } = commandResource(ctx);
  const out: Body = { initiated_by: adminBy(ctx), geoip: where.geoip, useragent: userAgent(r) };
  if (type.startsWith('file_')) {
    out.resource = { id: oid(ctx), type: 'file', name: pick(r, ['bootstrap.sh', 'GoogleChrome.pkg', 'fix "dns".ps1']) };
  } else if (type === 'commandresult_delete') {
    out.resource = { ...resource, type: 'commandresult' };
    out.system = { ...pickSystem(ctx), type: 'system' };
  } else out.resource = resource;
  if (type === 'command_create') {
    const runAs = script[1] === 'windows' ? '' : '000000000000000000000000';
    out.changes = [
      { field: 'name', to: script[0] },
      { field: 'commandType', to: script[1] },
      { field: 'command', to: script[2] },
      { field: 'launchType', to: 'manual' },
      { field: 'user', to: runAs },
    ];
  } else if (type === 'command_update') {
    out.changes = [{ field: 'command', from: script[2], to: `${script[2]} && echo done` }];
  }
  if (type === 'command_run') out.system = { ...pickSystem(ctx), type: 'system' };
  out.auth_method = r() < 0.6 ? 'session' : 'api key';
  return { ...out, ...tail(ctx, { success: ctx.success ?? true, ip: where.ip }) };
}

function pickSystem(ctx: RenderContext): Body {
  const m = targetSystem(ctx);
  return { id: m.id, hostname: m.hostname, displayName: m.displayName };
}
