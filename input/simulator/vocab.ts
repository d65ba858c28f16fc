// The people, machines, places and clients the simulator's events talk about. Users, admins and systems are
// numbered rosters (the same `user(3)` in every event and scenario, whatever the seed), so a scenario's target
// also shows up in the generated background, as a real account would. Names carry non-ASCII text, quotes and
// backslashes on purpose: the pipeline must keep them intact.
import { hash32, hashString, hex, objectId, prng, type Rng } from './random.js';

export interface Person {
  readonly kind: 'user' | 'admin';
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
}

export interface Machine {
  readonly kind: 'system';
  readonly id: string;
  readonly hostname: string;
  readonly displayName: string;
  readonly os: string;
  readonly version: string;
}

export type Identity = Person | Machine;

const PEOPLE: readonly (readonly [string, string])[] = [
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
];
const FIRST = ['amelie', 'bruno', 'chloe', 'david', 'emma', 'farid', 'greta', 'hugo', 'ines', 'jonas', 'kofi', 'lea'];
const LAST = ['martin', 'bernard', 'nguyen', 'okafor', 'rossi', 'schmidt', 'silva', 'tanaka', 'novak', 'haddad'];
const DOMAINS = ['example.com', 'corp.example.org', 'sekoia.io', 'acme-müller.de'];
const ADMINS: readonly (readonly [string, string])[] = [
  ['it.admin', 'IT Admin'],
  ['maurice.moss', 'Maurice Moss'],
  ['roy.trenneman', 'Roy Trenneman'],
  ['jen.barber', 'Jen Barber'],
  ['helpdesk', 'Help Desk'],
  ['secops', 'SecOps Bot'],
];
const HOSTS = ['JDOE-LAPTOP', 'build-runner-07', 'MÜNCHEN-WS-12', 'srv-ldap\\replica', 'db-01.internal', 'MAC-C02XK1'];
const OSES = [
  ['Mac OS X', '13.4'],
  ['Windows', '10.0.19045'],
  ['Ubuntu', '22.04'],
  ['Mac OS X', '14.2.1'],
] as const;

/** Users the generated background draws from; scenarios may address any index. */
export const BACKGROUND_USERS = 40;
export const BACKGROUND_ADMINS = ADMINS.length;
export const BACKGROUND_SYSTEMS = 24;

const stableId = (kind: number, k: number): string => objectId(prng(hash32(0x5eed1d, kind, k)));

/** The k-th user (k ≥ 0): the first twelve are the seed samples' people, then first.last combinations. */
export function user(k: number): Person {
  const [username, name] = k < PEOPLE.length ? PEOPLE[k]! : combo(k - PEOPLE.length);
  return { kind: 'user', id: stableId(1, k), username, name, email: `${username}@${DOMAINS[k % DOMAINS.length]}` };
}

function combo(k: number): readonly [string, string] {
  const f = FIRST[k % FIRST.length]!;
  const l = LAST[Math.floor(k / FIRST.length) % LAST.length]!;
  const n = Math.floor(k / (FIRST.length * LAST.length));
  const username = `${f}.${l}${n > 0 ? n + 1 : ''}`;
  const cap = (s: string): string => s[0]!.toUpperCase() + s.slice(1);
  return [username, `${cap(f)} ${cap(l)}${n > 0 ? ` ${n + 1}` : ''}`];
}

/** The k-th administrator of the org. */
export function admin(k: number): Person {
  const [local, name] = k < ADMINS.length ? ADMINS[k]! : [`admin${k}`, `Admin ${k}`];
  return { kind: 'admin', id: stableId(2, k), username: local, name, email: `${local}@${DOMAINS[k % 2]}` };
}

/** The k-th device (system) of the org. */
export function system(k: number): Machine {
  const host = k < HOSTS.length ? HOSTS[k]! : `WS-${hex(hash32(0x5, k), 6).toUpperCase()}`;
  const [os, version] = OSES[k % OSES.length]!;
  return { kind: 'system', id: stableId(3, k), hostname: host, displayName: host, os, version };
}

export const randomUser = (r: Rng): Person => user(Math.floor(r() * BACKGROUND_USERS));
export const randomAdmin = (r: Rng): Person => admin(Math.floor(r() * BACKGROUND_ADMINS));
export const randomSystem = (r: Rng): Machine => system(Math.floor(r() * BACKGROUND_SYSTEMS));

interface Place {
  readonly geoip: Readonly<Record<string, string | number>>;
  /** First two octets of addresses there (documentation-only realism: geo and IP agree). */
  readonly net: string;
}

const place = (
  cc: string,
  tz: string,
  lat: number,
  cont: string,
  region: string,
  lon: number,
  code: string,
  net: string,
): Place => ({
  geoip: {
    country_code: cc,
    timezone: tz,
    latitude: lat,
    continent_code: cont,
    region_name: region,
    longitude: lon,
    region_code: code,
  },
  net,
});

/** geoip objects as DI sends them, by country code. */
export const PLACES: Readonly<Record<string, Place>> = {
  FR: place('FR', 'Europe/Paris', 48.8323, 'EU', 'Paris', 2.4075, '75', '90.84'),
  US: place('US', 'America/New_York', 42.3797, 'NA', 'Massachusetts', -71.1034, 'MA', '73.203'),
  IE: place('IE', 'Europe/Dublin', 53.3379, 'EU', 'Leinster', -6.2591, 'L', '86.44'),
  DE: place('DE', 'Europe/Berlin', 48.1374, 'EU', 'Bayern', 11.5755, 'BY', '84.160'),
  JP: place('JP', 'Asia/Tokyo', 35.6893, 'AS', 'Tōkyō', 139.6899, '13', '126.72'),
  BR: place('BR', 'America/Sao_Paulo', -23.5335, 'SA', 'São Paulo', -46.6359, 'SP', '177.92'),
  GB: place('GB', 'Europe/London', 51.5164, 'EU', 'England', -0.093, 'ENG', '81.2'),
  AU: place('AU', 'Australia/Brisbane', -27.658, 'OC', 'Queensland', 152.8915, 'QLD', '1.120'),
  IN: place('IN', 'Asia/Kolkata', 19.0748, 'AS', 'Maharashtra', 72.8856, 'MH', '49.36'),
  CA: place('CA', 'America/Toronto', 43.6547, 'NA', 'Ontario', -79.3623, 'ON', '99.228'),
  NL: place('NL', 'Europe/Amsterdam', 52.3824, 'EU', 'North Holland', 4.8995, 'NH', '145.53'),
  SG: place('SG', 'Asia/Singapore', 1.2868, 'AS', 'Singapore', 103.8503, '01', '116.86'),
  RU: place('RU', 'Europe/Moscow', 55.7386, 'EU', 'Moscow', 37.6068, 'MOW', '95.165'),
  CN: place('CN', 'Asia/Shanghai', 31.2222, 'AS', 'Shanghai', 121.4581, 'SH', '58.246'),
  NG: place('NG', 'Africa/Lagos', 6.4474, 'AF', 'Lagos', 3.3903, 'LA', '105.112'),
};
export const COUNTRIES = Object.keys(PLACES);
/** Where the org's people usually are: the generated background comes from these. */
const HOME = ['FR', 'US', 'IE', 'DE', 'JP', 'BR', 'GB', 'FR', 'US', 'DE'];

export const homeCountry = (r: Rng): string => HOME[Math.floor(r() * HOME.length)]!;

/** A person's home country: one of the org's places, the same for every event of theirs. */
export const homeCountryOf = (p: Person): string => HOME[hashString(p.id) % HOME.length]!;

/** An address in the country's range (an unknown country: anywhere). */
export function ipIn(r: Rng, country?: string): string {
  const net = country ? PLACES[country]?.net : undefined;
  const octet = (lo: number): number => lo + Math.floor(r() * (256 - lo - 1));
  return `${net ?? `${1 + Math.floor(r() * 222)}.${Math.floor(r() * 256)}`}.${octet(0)}.${octet(1)}`;
}

export const USER_AGENTS: readonly Readonly<Record<string, string>>[] = [
  {
    os: 'Mac OS X',
    minor: '0',
    os_minor: '15',
    os_version: '10.15.7',
    os_major: '10',
    version: '114.0.0.0',
    os_patch: '7',
    patch: '0',
    os_full: 'Mac OS X 10.15.7',
    major: '114',
    name: 'Chrome',
    os_name: 'Mac OS X',
    device: 'Mac',
  },
  {
    os_full: 'Mac OS X 10.15',
    minor: '0',
    os: 'Mac OS X',
    major: '114',
    os_minor: '15',
    os_major: '10',
    os_version: '10.15',
    name: 'Firefox',
    os_name: 'Mac OS X',
    device: 'Mac',
    version: '114.0',
  },
  {
    os_full: 'Windows 10',
    minor: '0',
    os: 'Windows',
    major: '120',
    os_version: '10',
    name: 'Edge',
    os_name: 'Windows',
    device: 'Other',
    version: '120.0.2210.91',
  },
  {
    patch: '0',
    os_full: 'Other',
    minor: '68',
    major: '7',
    os: 'Other',
    name: 'curl',
    os_name: 'Other',
    device: 'Other',
    version: '7.68.0',
  },
  { os_full: 'Other', os: 'Other', name: 'Other', os_name: 'Other', device: 'Other' },
];

export const APPS: readonly (readonly [string, string, string])[] = [
  ['google', 'Google Workspace', 'https://sso.jumpcloud.com/saml2/google'],
  ['salesforce', 'Salesforce', 'https://sso.jumpcloud.com/saml2/salesforce'],
  ['slack', 'Slack [prod]', 'https://sso.jumpcloud.com/saml2/slack'],
  ['aws', 'AWS {console}', 'https://sso.jumpcloud.com/saml2/aws?env=prod&region=eu-west-1'],
  ['zendesk', 'Zendesk SSO', 'https://sso.jumpcloud.com/saml2/zendesk'],
];

export const GROUPS = ['Engineering', 'Sales – EMEA', 'Contractors', 'Finance "restricted"', 'All Users', 'Mac fleet'];
export const POLICY_NAMES = [
  'Disable USB storage – macOS',
  'FileVault 2',
  'Windows Defender',
  'Screen lock 5 min',
  'Software updates (Ubuntu)',
  'BitLocker',
];
export const AUTH_POLICIES = [
  'Global Policy',
  'Require MFA – Contractors',
  'Block "legacy" clients',
  'Geo fence (EU only)',
];
export const COMMANDS: readonly (readonly [string, string, string])[] = [
  ['Install Chrome', 'mac', 'curl -sSL https://dl.google.com/chrome/mac/stable/googlechrome.dmg -o /tmp/chrome.dmg'],
  ['Rotate local admin password', 'windows', 'net user Administrator $env:NEW_PASSWORD'],
  ['Collect logs', 'linux', 'journalctl --since "1 hour ago" > /tmp/logs.txt'],
  ['Add SSH key', 'linux', 'echo "ssh-ed25519 AAAAC3Nza… ops@example.com" >> ~/.ssh/authorized_keys'],
  ['Reboot', 'mac', 'shutdown -r now'],
];
export const ADMIN_ROLES = [
  'Administrator with Billing',
  'Administrator',
  'Manager',
  'Help Desk',
  'Read Only',
  'Command Runner',
  'Command Runner with Billing',
];
export const PASSWORD_ITEMS = [
  'VPN – Büro München',
  'AWS root "break-glass"',
  'Wi-Fi guest',
  'Payroll \\\\share',
  'GitHub deploy key',
];
