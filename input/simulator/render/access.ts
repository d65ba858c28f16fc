// Authentication services and devices: SSO, RADIUS, LDAP, logins to systems and the agent's device events.
// Shapes from the seed samples (sso_auth, radius_auth_attempt) and the SSO, RADIUS, LDAP and Systems attribute tables.
import { between, pick, uuid } from '../random.js';
import { APPS } from '../vocab.js';
import {
  adminBy,
  initiatedBy,
  oid,
  ORG_HOLE,
  origin,
  outcome,
  person,
  systemObject,
  tail,
  targetSystem,
  userAgent,
  type Body,
  type RenderContext,
} from './common.js';
import { policiesApplied } from './directory.js';

function authContext(ctx: RenderContext, ok: boolean, mfa: boolean): Body {
  const m = targetSystem(ctx);
  const methods: Body = { password: { success: ok || ctx.r() < 0.3 } };
  if (mfa) methods.totp = { success: ok };
  return { system: systemObject(m), auth_methods: methods, policies_applied: policiesApplied(ctx) };
}

export function ssoAuth(ctx: RenderContext): Body {
  const r = ctx.r;
  const p = person(ctx, 'user');
  const ok = outcome(ctx, 0.85);
  const mfa = ctx.mfa ?? r() < 0.5;
  const [name, label, url] = pick(r, APPS);
  const where = origin(ctx, p);
  // An MFA step shows as sso_token_success false with no error message.
  const error = ok
    ? ''
    : pick(r, ['application unreachable', 'not authorized', '', 'SAML response rejected: "Audience" mismatch']);
  return {
    initiated_by: initiatedBy(ctx, p),
    error_message: error,
    geoip: where.geoip,
    sso_token_success: ok,
    useragent: userAgent(r),
    auth_context: authContext(ctx, ok, mfa),
    mfa,
    event_type: ctx.entry.type,
    application: { display_label: label, sso_type: 'saml', name, id: oid(ctx), sso_url: url },
    provider: '',
    idp_initiated: r() < 0.3,
    ...tail(ctx, { success: undefined, ip: where.ip }),
  };
}

export function radiusAuth(ctx: RenderContext): Body {
  const r = ctx.r;
  const p = person(ctx, 'user');
  const ok = outcome(ctx, 0.8);
  const mfa = ctx.mfa ?? false;
  const where = origin(ctx, p);
  const err = 'mschap: MS-CHAP2-Response is incorrect';
  const rejected =
    'eap_peap: The users session was previously rejected: returning reject (again.), ' +
    `eap: Failed continuing EAP PEAP (25) session.  EAP sub-module failed: ${err}`;
  const outer: Body = ok
    ? { eap_type: 'PEAP', username: p.username }
    : { error_message: rejected, eap_type: 'PEAP', username: p.username };
  if (ok && r() < 0.3) outer.error_message = null;
  const out: Body = ok ? {} : { error_message: err };
  Object.assign(out, {
    initiated_by: { type: 'user', username: p.username },
    auth_type: 'eap',
    nas_mfa_state: mfa ? 'ENABLED' : 'DISABLED',
    geoip: where.geoip,
    eap_type: 'MSCHAPv2',
    outer,
    mfa,
  });
  if (mfa) out.mfa_meta = { type: 'totp' };
  out.auth_meta = {
    user_password_enabled: true,
    device_cert_enabled: false,
    user_cert_enabled: false,
    auth_idp: 'JUMPCLOUD',
    userid_type: 'USERNAME',
  };
  out.nas_ip = `10.${between(r, 0, 255)}.${between(r, 0, 255)}.${between(r, 1, 254)}`;
  out.nas_identifier = pick(r, ['ap-lobby-01', 'vpn-gw-fra', 'Wi-Fi «Gäste»']);
  // The order of real RADIUS events: success before service, username last.
  return {
    ...out,
    event_type: ctx.entry.type,
    success: ok,
    service: ctx.entry.service,
    organization: ORG_HOLE,
    '@version': '1',
    client_ip: where.ip,
    username: p.username,
  };
}

export function ldap(ctx: RenderContext): Body {
  const r = ctx.r;
  const p = person(ctx, 'user');
  const bind = ctx.entry.type === 'ldap_bind';
  const dn = `uid=${p.username},ou=Users,o=${ORG_HOLE},dc=jumpcloud,dc=com`;
  const where = origin(ctx, p);
  const out: Body = {
    initiated_by: { type: 'user', username: p.username },
    auth_method: 'simple',
    mfa: false,
    geoip: where.geoip,
    src_ip: where.ip,
    connection_id: `${oid(ctx)}/${between(r, 1, 9999)}`,
    operation_number: between(r, 0, 12),
    tls_established: r() < 0.9,
    start_tls: false,
    username: p.username,
  };
  if (bind) {
    const ok = outcome(ctx, 0.85);
    out.auth_meta = { auth_methods: { password: { success: ok } } };
    const error = ok ? '' : `Invalid credentials (49) for "${p.name}"`;
    Object.assign(out, { dn, mech: 'SIMPLE', error_code: ok ? 0 : 49, error_message: error });
    return { ...out, ...tail(ctx, { success: ok, ip: where.ip }) };
  }
  Object.assign(out, {
    base: `ou=Users,o=${ORG_HOLE},dc=jumpcloud,dc=com`,
    scope: 2,
    deref: 0,
    filter: `(&(objectClass=inetOrgPerson)(|(uid=${p.username})(cn=${p.name})))`,
    attr: 'uid mail memberOf',
    number_of_results: between(r, 0, 40),
  });
  return { ...out, ...tail(ctx, { success: ctx.success ?? true, ip: where.ip }) };
}

/** login_attempt: a user logs in to a device (sshd, loginwindow, winlogon). */
export function systemAuth(ctx: RenderContext): Body {
  const r = ctx.r;
  const p = person(ctx, 'user');
  const m = targetSystem(ctx);
  const ok = outcome(ctx, 0.85);
  const where = origin(ctx, p);
  const proc = m.os === 'Windows' ? 'winlogon.exe' : pick(r, ['loginwindow', 'sshd', 'sudo']);
  const out: Body = {
    initiated_by: initiatedBy(ctx, p),
    system: systemObject(m),
    agent_version: `1.${between(r, 100, 199)}.0`,
    event_type: ctx.entry.type,
    auth_method: pick(r, ['password', 'touchid', 'ssh_key']),
    process_name: proc,
    mfa: ctx.mfa ?? r() < 0.4,
    username: p.username,
    src_ip: where.ip,
    message: ok
      ? `User ${p.username} logged in from ${where.ip}, process name: ${proc}`
      : `Authentication failure for user "${p.username}" from C:\\Users\\${p.username}`,
  };
  if (out.mfa) out.mfa_meta = { type: pick(r, ['totp', 'push', 'webauthn']) };
  if (m.os === 'Windows') out.windows_meta = { elevated: r() < 0.2, logon_type: pick(r, ['2', '10', '7', '11']) };
  return { ...out, geoip: where.geoip, ...tail(ctx, { success: ok, ip: where.ip }) };
}

/** What the agent and the console report about a device besides logins. */
export function systemEvent(ctx: RenderContext): Body {
  const r = ctx.r;
  const type = ctx.entry.type;
  const m = targetSystem(ctx);
  const where = origin(ctx);
  const agent = /^(system_fde_key_update|os_)/.test(type);
  const byUser = /^(user_password_change|user_lockout|remote_session_join|remote_session_feedback)$/.test(type);
  const out: Body = {};
  if (agent) out.initiated_by = { id: m.id, type: 'system' };
  else if (byUser) out.initiated_by = initiatedBy(ctx, person(ctx, 'user'));
  else out.initiated_by = adminBy(ctx);
  out.system = { ...systemObject(m), type: 'system' };
  if (byUser && type.startsWith('user_')) {
    const u = out.initiated_by as Body;
    out.username = u.username ?? null;
    out.resource = { type: 'systemuser', id: u.id ?? oid(ctx), username: u.username ?? null };
    if (type === 'user_password_change') out.changes = [{ field: 'password' }];
    else out.message = `User ${String(u.username)} locked out after 5 failed attempts, process name: loginwindow`;
  }
  if (type.startsWith('os_')) {
    const up = type.includes('upgrade');
    const [a, b] = type.includes('major') ? ['13.6.4', '14.2.1'] : ['14.2.0', '14.2.1'];
    out.changes = [{ field: 'os_version', from: up ? a : b, to: up ? b : a }];
  }
  if (type.startsWith('remote_session')) out.resource = { id: uuid(r), type: 'remote_session' };
  if (type === 'remote_session_feedback') {
    out.feedback = { rating: between(r, 1, 5), comment: pick(r, ['', 'Très bien, merci !']) };
  }
  if (type.startsWith('google_emm')) {
    out.resource = { id: `enterprises/LC0${oid(ctx).slice(0, 8)}`, type: 'google_emm' };
  }
  if (type === 'device_command') out.command = { type: pick(r, ['LOCK', 'REBOOT', 'RESET_PASSWORD', 'WIPE']) };
  if (type.startsWith('system_fde_key')) out.fde = { type: m.os === 'Windows' ? 'BitLocker' : 'FileVault' };
  if (!agent) Object.assign(out, { geoip: where.geoip, useragent: userAgent(r) });
  const success = ctx.success ?? type !== 'user_lockout';
  return { ...out, ...tail(ctx, { success, ip: agent ? undefined : where.ip }) };
}
