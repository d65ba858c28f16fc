// Event bodies of the simulator: realistic DI events (shapes from fixtures/samples and JumpCloud's docs), built
// by string concatenation from a per-event seed so that millions of them cost no memory and render fast.
// Strings go through JSON.stringify, so quotes, backslashes and non-ASCII text appear escaped as the API would.

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes numbers into one 32-bit seed. */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h = Math.imul(h ^ Math.floor(p / 4294967296), 0x5bd1e995);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(8, '0').slice(8 - width);
}

/** A 24-hex ObjectId-looking value from a seed (used for referenced objects, not event ids). */
function objectId(r: Rng): string {
  return hex(0x60000000 + Math.floor(r() * 0x08000000), 8) + hex(r() * 4294967296, 8) + hex(r() * 4294967296, 8);
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const q = JSON.stringify;

const PEOPLE = [
  ['jane.doe', 'Jane Doe'],
  ['john.doe', 'John Doe'],
  ['jose.alvarez', 'José Álvarez'],
  ['zoe.muller', 'Zoë Müller'],
  ['soren.kierkegaard', 'Søren Kierkegård'],
  ['lukasz.wojcik', 'Łukasz Wójcik'],
  ['dimitris.pappas', 'Δημήτρης Παππάς'],
  ['natalia.ivanova', 'Наталья Иванова'],
  ['hanako.sato', '佐藤 花子'],
  ['minjun.kim', '김민준'],
  ['francois.dupont', 'François Dupont'],
  ['maurice.moss', 'Maurice "Moss" O\'Neil'],
] as const;
const DOMAINS = ['example.com', 'corp.example.org', 'sekoia.io', 'acme-müller.de'];
const GEO = [
  '{"country_code":"FR","timezone":"Europe/Paris","latitude":48.8323,"continent_code":"EU","region_name":"Paris","longitude":2.4075,"region_code":"75"}',
  '{"country_code":"US","timezone":"America/New_York","latitude":42.3797,"continent_code":"NA","region_name":"Massachusetts","longitude":-71.1034,"region_code":"MA"}',
  '{"country_code":"IE","timezone":"Europe/Dublin","latitude":53.3379,"continent_code":"EU","region_name":"Leinster","region_code":"L","longitude":-6.2591}',
  '{"country_code":"DE","timezone":"Europe/Berlin","latitude":48.1374,"continent_code":"EU","region_name":"Bayern","longitude":11.5755,"region_code":"BY"}',
  '{"country_code":"JP","timezone":"Asia/Tokyo","latitude":35.6893,"continent_code":"AS","region_name":"Tōkyō","longitude":139.6899,"region_code":"13"}',
  '{"country_code":"BR","timezone":"America/Sao_Paulo","latitude":-23.5335,"continent_code":"SA","region_name":"São Paulo","longitude":-46.6359,"region_code":"SP"}',
];
const AGENTS = [
  '{"os":"Mac OS X","minor":"0","os_minor":"15","os_version":"10.15.7","os_major":"10","version":"114.0.0.0","os_patch":"7","patch":"0","os_full":"Mac OS X 10.15.7","major":"114","name":"Chrome","os_name":"Mac OS X","device":"Mac"}',
  '{"os_full":"Mac OS X 10.15","minor":"0","os":"Mac OS X","major":"114","os_minor":"15","os_major":"10","os_version":"10.15","name":"Firefox","os_name":"Mac OS X","device":"Mac","version":"114.0"}',
  '{"os_full":"Windows 10","minor":"0","os":"Windows","major":"120","os_version":"10","name":"Edge","os_name":"Windows","device":"Other","version":"120.0.2210.91"}',
  '{"patch":"0","os_full":"Other","minor":"68","major":"7","os":"Other","name":"curl","os_name":"Other","device":"Other","version":"7.68.0"}',
  '{"os_full":"Other","os":"Other","name":"Other","os_name":"Other","device":"Other"}',
];
const APPS = [
  ['google', 'Google Workspace', 'https://sso.jumpcloud.com/saml2/google'],
  ['salesforce', 'Salesforce', 'https://sso.jumpcloud.com/saml2/salesforce'],
  ['slack', 'Slack [prod]', 'https://sso.jumpcloud.com/saml2/slack'],
  ['aws', 'AWS {console}', 'https://sso.jumpcloud.com/saml2/aws?env=prod&region=eu-west-1'],
] as const;
const HOSTS = ['JDOE-LAPTOP', 'build-runner-07', 'MÜNCHEN-WS-12', 'srv-ldap\\replica', 'db-01.internal'];

function ip(r: Rng): string {
  return `${1 + Math.floor(r() * 222)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
}

function person(r: Rng): { username: string; name: string; email: string } {
  const [username, name] = pick(r, PEOPLE);
  return { username, name, email: `${username}@${pick(r, DOMAINS)}` };
}

function adminBy(r: Rng): string {
  const p = person(r);
  return `{"id":${q(objectId(r))},"type":"admin","email":${q(p.email)}}`;
}

function policies(r: Rng): string {
  const n = 1 + Math.floor(r() * 5);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`{"metadata":{"resource_type":"APPLICATION","action":${q(pick(r, ['ALLOW', 'MFA', 'DENY']))}},"name":${q(pick(r, ['Global Policy', 'Require MFA – Contractors', 'Block "legacy" clients', 'Geo fence (EU only)']))},"id":${q(objectId(r))}}`);
  }
  return `[${out.join(',')}]`;
}

/** The common fields before id and timestamp, which every event ends with (as JumpCloud's do). */
function authContext(r: Rng, name: string): string {
  return `{"system":{"hostname":${q(pick(r, HOSTS))},"os":${q(pick(r, ['Mac OS X', 'Windows', 'Ubuntu']))},"displayName":${q(name)},"id":${q(objectId(r))},"version":${q(pick(r, ['13.4', '10.0.19045', '22.04']))}},"auth_methods":{"password":{"success":true},"totp":{"success":${r() < 0.9}}},"policies_applied":${policies(r)}}`;
}

function tail(service: string, org: string, clientIp: string): string {
  return `"service":${q(service)},"organization":${q(org)},"@version":"1","client_ip":${q(clientIp)},`;
}

function directory(r: Rng, org: string): string {
  const kind = r();
  const ipAddr = ip(r);
  if (kind < 0.35) {
    const ok = r() < 0.85;
    return `{"initiated_by":${adminBy(r)},"geoip":${pick(r, GEO)},"useragent":${pick(r, AGENTS)},"auth_context":${authContext(r, person(r).name)},"mfa":${r() < 0.7},"event_type":"admin_login_attempt","provider":null,${ok ? '' : `"error_message":${q(pick(r, ['invalid credentials', 'MFA "push" timed out', 'account locked\\suspended']))},`}"success":${ok},${tail('directory', org, ipAddr)}`;
  }
  if (kind < 0.75) {
    const p = person(r);
    const changes: string[] = [];
    const n = 1 + Math.floor(r() * 6);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(r() * 4);
      if (c === 0) changes.push(`{"field":"attributes","from":[{"name":"Division","id":${q(objectId(r))},"_id":${q(objectId(r))},"value":"Marketing"}],"to":[{"name":"Division","id":${q(objectId(r))},"_id":${q(objectId(r))},"value":${q(pick(r, ['Sales', 'R&D', 'Ventes – Île-de-France']))}}]}`);
      else if (c === 1) changes.push(`{"field":"addresses","from":[{"country":"FR","poBox":"","streetAddress":"54 rue des Petites Écuries","postalCode":"75010","locality":"Paris","id":${q(objectId(r))},"type":"work"}],"to":[{"country":"DE","poBox":"","streetAddress":"Straße des 17. Juni 135","postalCode":"10623","locality":"Berlin","id":${q(objectId(r))},"type":"work"}]}`);
      else if (c === 2) changes.push(`{"field":"suspended","from":false,"to":true},{"field":"state","from":"ACTIVATED","to":"SUSPENDED"}`);
      else changes.push(`{"field":"displayname","from":${q(p.name)},"to":${q(`${p.name} (${pick(r, ['ext', 'contractor', 'on leave'])})`)}}`);
    }
    return `{"initiated_by":${adminBy(r)},"geoip":${pick(r, GEO)},"resource":{"id":${q(objectId(r))},"type":"user","username":${q(p.username)}},"useragent":${pick(r, AGENTS)},"changes":[${changes.join(',')}],"auth_method":${q(pick(r, ['api key', 'session']))},"event_type":"user_update","correlation":{},"success":true,${tail('directory', org, ipAddr)}`;
  }
  const p = person(r);
  return `{"initiated_by":${adminBy(r)},"geoip":${pick(r, GEO)},"useragent":${pick(r, AGENTS)},"association":{"op":${q(pick(r, ['add', 'remove']))},"action_source":"manual","connection":{"from":{"name":${q(pick(r, HOSTS))},"type":"system","object_id":${q(objectId(r))}},"to":{"name":${q(p.username)},"type":"user","object_id":${q(objectId(r))}}},"attributes":null},"auth_method":"session","event_type":"association_change","provider":null,"success":true,${tail('directory', org, ipAddr)}`;
}

function sso(r: Rng, org: string): string {
  const p = person(r);
  const ok = r() < 0.8;
  const [name, label, url] = pick(r, APPS);
  const error = ok ? '' : pick(r, ['application unreachable', 'not authorized', '', 'SAML response rejected: "Audience" mismatch']);
  return `{"initiated_by":{"id":${q(objectId(r))},"type":"user","username":${q(p.username)}},"error_message":${q(error)},"geoip":${pick(r, GEO)},"sso_token_success":${ok},"useragent":${pick(r, AGENTS)},"auth_context":${authContext(r, p.name)},"mfa":${r() < 0.5},"event_type":"sso_auth","application":{"display_label":${q(label)},"sso_type":"saml","name":${q(name)},"id":${q(objectId(r))},"sso_url":${q(url)}},"provider":"","idp_initiated":${r() < 0.3},${tail('sso', org, ip(r))}`;
}

function radius(r: Rng, org: string): string {
  const p = person(r);
  const ok = r() < 0.75;
  const err = ok ? '' : `"error_message":"mschap: MS-CHAP2-Response is incorrect",`;
  const outer = ok
    ? `{"eap_type":"PEAP","username":${q(p.username)}}`
    : `{"error_message":"eap_peap: The users session was previously rejected: returning reject (again.), eap: Failed continuing EAP PEAP (25) session.  EAP sub-module failed: mschap: MS-CHAP2-Response is incorrect","eap_type":"PEAP","username":${q(p.username)}}`;
  return `{${err}"initiated_by":{"type":"user","username":${q(p.username)}},"auth_type":"eap","nas_mfa_state":"DISABLED","geoip":${pick(r, GEO)},"eap_type":"MSCHAPv2","outer":${outer},"mfa":false,"auth_meta":{"user_password_enabled":true,"device_cert_enabled":false,"user_cert_enabled":false,"auth_idp":"JUMPCLOUD","userid_type":"USERNAME"},"auth_context":${authContext(r, p.name)},"nas_ip":${q(ip(r))},"nas_identifier":${q(pick(r, ['ap-lobby-01', 'vpn-gw-fra', 'Wi-Fi «Gäste»']))},"event_type":"radius_auth_attempt","success":${ok},"username":${q(p.username)},${tail('radius', org, ip(r))}`;
}

function ldap(r: Rng, org: string): string {
  const p = person(r);
  const bind = r() < 0.6;
  const dn = `uid=${p.username},ou=Users,o=${org},dc=jumpcloud,dc=com`;
  const common = `"initiated_by":{"type":"user","username":${q(p.username)}},"auth_context":${authContext(r, p.name)},"auth_method":"simple","mfa":false,"geoip":${pick(r, GEO)},"src_ip":${q(ip(r))},"tls_established":${r() < 0.9},"start_tls":false,"port":${pick(r, [389, 636])}`;
  if (bind) {
    const ok = r() < 0.85;
    return `{${common},"event_type":"ldap_bind","dn":${q(dn)},"mech":"SIMPLE","success":${ok},"error_code":${ok ? 0 : 49},"error_message":${q(ok ? '' : 'Invalid credentials (49) for "' + p.name + '"')},${tail('ldap', org, ip(r))}`;
  }
  return `{${common},"event_type":"ldap_search","base":${q(`ou=Users,o=${org},dc=jumpcloud,dc=com`)},"scope":2,"deref":0,"filter":${q(`(&(objectClass=inetOrgPerson)(|(uid=${p.username})(cn=${p.name})))`)},"attr":["uid","mail","memberOf"],"number_of_results":${Math.floor(r() * 40)},"success":true,${tail('ldap', org, ip(r))}`;
}

function systems(r: Rng, org: string): string {
  const p = person(r);
  const host = pick(r, HOSTS);
  const ok = r() < 0.8;
  return `{"initiated_by":{"id":${q(objectId(r))},"type":"user","username":${q(p.username)}},"system":{"id":${q(objectId(r))},"hostname":${q(host)},"displayName":${q(host)},"os":${q(pick(r, ['Mac OS X', 'Windows', 'Ubuntu']))},"version":${q(pick(r, ['13.4', '10.0.19045', '22.04']))}},"agent_version":"1.${Math.floor(r() * 200)}.0","event_type":"login_attempt","auth_method":${q(pick(r, ['password', 'touchid', 'ssh_key']))},"process_name":${q(pick(r, ['loginwindow', 'sshd', 'winlogon.exe']))},"mfa":${r() < 0.4},"mfa_meta":{"type":${q(pick(r, ['totp', 'push', 'webauthn']))}},"auth_context":${authContext(r, p.name)},"useragent":${pick(r, AGENTS)},"message":${q(ok ? '' : `Authentication failure for user "${p.username}" from C:\\Users\\${p.username}`)},"success":${ok},"geoip":${pick(r, GEO)},${tail('systems', org, ip(r))}`;
}

function passwordManager(r: Rng, org: string): string {
  const p = person(r);
  const type = pick(r, ['passwordmanager_app_unlock', 'passwordmanager_item_create', 'passwordmanager_item_update', 'passwordmanager_backup_create', 'passwordmanager_app_update']);
  return `{"initiated_by":{"id":${q(objectId(r))},"type":"user","email":${q(p.email)},"username":${q(p.username)}},"resource":{"id":${q(objectId(r))},"type":"password_item","name":${q(pick(r, ['VPN – Büro München', 'AWS root "break-glass"', 'Wi-Fi guest', 'Payroll \\\\share']))}},"geoip":${pick(r, GEO)},"useragent":${pick(r, AGENTS)},"device":{"id":${q(objectId(r))},"name":${q(pick(r, HOSTS))},"app_version":"1.${Math.floor(r() * 40)}.0"},"auth_context":${authContext(r, p.name)},"event_type":${q(type)},"success":true,${tail('password_manager', org, ip(r))}`;
}

const RENDERERS: Record<string, (r: Rng, org: string) => string> = {
  directory,
  sso,
  radius,
  ldap,
  systems,
  password_manager: passwordManager,
};

/** Services the generator makes events for. */
export const GENERATED_SERVICES = Object.keys(RENDERERS);

/**
 * Everything of an event but its id and timestamp (a `{…,` prefix). The store renders a pool of these per
 * stream once (as UTF-8 bytes) and appends id and timestamp per event, so serving costs a copy.
 */
export function renderPrefix(service: string, variant: number, org: string): string {
  const render = RENDERERS[service] ?? directory;
  return render(prng(variant), org);
}

