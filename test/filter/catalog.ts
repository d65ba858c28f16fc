// The catalog of documented event types, read from JumpCloud's API description (test/conformance/di-openapi.yaml:
// the "Event Types" tables of info.description), and one plausible raw event of each, shaped like the seed
// samples of its family, for the tests of the elastic profile's categorization.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const SPEC = new URL('../conformance/di-openapi.yaml', import.meta.url);
/** The name real RADIUS events carry; the API description says radius_auth. */
export const RADIUS_REAL = 'radius_auth_attempt';

export interface CatalogType { readonly type: string; readonly section: string }

/** Every type of the "Event Types" tables, with the section it is first listed in. Throws when none is found. */
export function catalogTypes(): CatalogType[] {
  const spec = parse(readFileSync(SPEC, 'utf8')) as { info?: { description?: string } };
  const lines = (spec.info?.description ?? '').split('\n');
  const start = lines.indexOf('# Event Types');
  if (start < 0) throw new Error(`${SPEC.pathname}: no "# Event Types" heading in info.description`);
  const out = new Map<string, string>();
  let section = '';
  for (const line of lines.slice(start + 1)) {
    if (/^# /.test(line)) break;
    if (line.startsWith('## ')) { section = line.slice(3).trim(); continue; }
    const m = /^\s*([a-z0-9][a-z0-9_-]*)\s*\|/.exec(line); // a row; the header (`Event`) and rules are not
    if (m && !out.has(m[1]!)) out.set(m[1]!, section);
  }
  if (out.size === 0) throw new Error(`${SPEC.pathname}: no event type rows under "# Event Types"`);
  return [...out].map(([type, section]) => ({ type, section }));
}

const SERVICES: [RegExp, string][] = [
  [/^Directory/, 'directory'], [/^RADIUS/, 'radius'], [/^SSO/, 'sso'], [/^Systems/, 'systems'], [/^Password/, 'password_manager'],
  [/^Software/, 'software'], [/^LDAP/, 'ldap'], [/^MDM/, 'mdm'], [/^Notification/, 'notifications'], [/^Object Storage/, 'object_storage'],
  [/^Alert/, 'alerts'], [/^SaaS/, 'saas_app_management'], [/^Access/, 'access_management'], [/Reports/, 'reports'],
  [/^Asset/, 'asset_management'], [/^Genai/, 'genai'], [/^Aigw/, 'aigw'], [/^AI Admin/, 'ai_admin'], [/^Generic/, 'directory'],
];

/** The resource an object event of this type is about, guessed from the type's name. */
function resourceOf(type: string): Record<string, unknown> {
  const id = '6490f0f5a2d539837a30aaa' + (type.length % 10);
  if (/^(user|totp|passwordmanager_user|passwordvault_user)/.test(type) && !/group/.test(type)) return { id, type: 'user', username: 'jane.doe', email: 'jane.doe@example.com' };
  if (/^admin/.test(type)) return { id, type: 'admin', email: 'maurice.moss@example.com' };
  if (/group/.test(type)) return { id, type: 'user_group', name: 'Engineering' };
  if (/^(system|os_|device|mdm|remote_session|software)/.test(type)) return { id, type: 'system', hostname: 'JDOE-MBP', name: 'Jane Doe MacBook' };
  return { id, type: type.split('_')[0]!, name: `${type.split('_')[0]} example` };
}

/** One raw event of `type`, in the shape of its family (authentication, system, or a change of an object). */
export function catalogEvent({ type, section }: CatalogType, n: number): Record<string, unknown> {
  const service = SERVICES.find(([re]) => re.test(section))?.[1] ?? 'directory';
  const ev: Record<string, unknown> = {
    '@version': '1', id: `64908c2ef675033f5a7a${String(n).padStart(4, '0')}`, timestamp: '2023-06-19T17:11:10.381Z',
    event_type: type, service, organization: '641b3db57090821c0b2f8183', client_ip: '81.2.69.144',
    geoip: { country_code: 'GB', continent_code: 'EU', region_code: 'ENG', region_name: 'England', timezone: 'Europe/London', latitude: 51.5142, longitude: -0.0931 },
    initiated_by: { id: '5bf6defbdcd8233029e0c599', type: 'admin', email: 'maurice.moss@example.com' },
  };
  if (/login|auth|bind|unlock|search/.test(type)) {
    Object.assign(ev, { success: n % 2 === 0, mfa: true, error_message: n % 2 === 0 ? null : 'invalid credentials', username: 'jane.doe',
      initiated_by: { id: '611d175820c84b11c28262e2', type: 'user', username: 'jane.doe' },
      useragent: { name: 'Chrome', version: '109.0.0.0', os_name: 'Mac OS X', os_version: '10.15.7', os_full: 'Mac OS X 10.15.7', device: 'Mac' } });
  } else {
    Object.assign(ev, { success: true, auth_method: 'session', resource: resourceOf(type), changes: [{ field: 'name', from: 'old', to: 'new' }],
      useragent: { name: 'Firefox', version: '115.0', os_name: 'Windows', os_version: '10', os_full: 'Windows 10', device: 'Other' } });
  }
  if (service === 'systems' || service === 'software' || service === 'mdm') {
    Object.assign(ev, { system: { id: '6447f8a7caa17d71c56b2dca', hostname: 'JDOE-MBP', displayName: 'Jane Doe MacBook' } });
    if (type === 'login_attempt') Object.assign(ev, { src_ip: '10.0.2.2', process_name: 'sshd', message: 'User jane.doe logged in from 10.0.2.2' });
  }
  return ev;
}
