// Scenarios: the shipped files produce what their descriptions say (the facts a detection keys on, and the near
// misses one short of them), deterministically; bad files are refused with the file, the step and the fix; and the
// simulator serves a scenario's events exactly, among the generated ones.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario, scenarioEvents, type ScenarioEvent } from '../../../input/simulator/scenario/events.js';
import { startSimulator } from '../../../input/simulator/server.js';
import { organizationId } from '../../../input/simulator/stamp.js';
import { iso, manualClock } from '../../support/simulator.js';

const DIR = new URL('../../../scenarios/', import.meta.url).pathname;
const START = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;
const work = mkdtempSync(join(tmpdir(), 'scenario-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Ev = Record<string, unknown> & { event_type: string; timestamp: string; success?: boolean; client_ip?: string };
const parsed = (events: readonly ScenarioEvent[]): Ev[] => events.map((e) => JSON.parse(e.event) as Ev);
const run = (file: string, seed = 1): Ev[] =>
  parsed(scenarioEvents(resolve(DIR, file), { start: START, orgId: 'o1', seed }));
const by = (e: Ev): string => {
  const i = e.initiated_by as Record<string, string>;
  return i.email ?? i.username;
};
const target = (e: Ev): string => {
  const r = e.resource as Record<string, string>;
  return r.username ?? r.email ?? r.id;
};
const minutes = (a: Ev, b: Ev): number => (Date.parse(b.timestamp) - Date.parse(a.timestamp)) / MIN;
const distinct = <T>(xs: T[]): number => new Set(xs).size;
const failures = (es: Ev[]): Ev[] => es.filter((e) => e.success === false);

describe('shipped scenarios', () => {
  it('are every file of scenarios/ and scenarios/near-misses/, each with a description', () => {
    const files = [
      ...readdirSync(DIR).filter((f) => f.endsWith('.yaml')),
      ...readdirSync(join(DIR, 'near-misses')).map((f) => `near-misses/${f}`),
    ];
    // The README's table lists them all, and nothing else.
    const table = readFileSync(join(DIR, 'README.md'), 'utf8');
    const listed = [...table.matchAll(/^\| `([\w/-]+\.yaml)` \|/gm)].map((m) => m[1]);
    expect(files.sort()).toEqual(listed.sort());
    for (const f of files) expect(loadScenario(join(DIR, f)).description.length, f).toBeGreaterThan(60);
  });

  it('password spray: one address, 8 users, within 30 minutes; near misses: 6 users, 56 minutes, 8 addresses', () => {
    const spray = run('password-spray.yaml');
    expect(spray.map((e) => e.event_type)).toEqual(Array(8).fill('user_login_attempt'));
    expect(failures(spray)).toHaveLength(8);
    expect(distinct(spray.map((e) => e.client_ip))).toBe(1);
    expect(distinct(spray.map(by))).toBe(8);
    expect(minutes(spray[0]!, spray.at(-1)!)).toBe(21);
    expect(spray.every((e) => (e.geoip as { country_code: string }).country_code === 'RU')).toBe(true);
    expect(distinct(run('near-misses/password-spray-6-users.yaml').map(by))).toBe(6);
    const slow = run('near-misses/password-spray-slow.yaml');
    expect([distinct(slow.map(by)), minutes(slow[0]!, slow.at(-1)!)]).toEqual([8, 56]);
    const many = run('near-misses/password-spray-many-addresses.yaml');
    expect([distinct(many.map(by)), distinct(many.map((e) => e.client_ip))]).toEqual([8, 8]);
  });

  it('brute force then success: 6 failures in 7.5 minutes, success at 9; near misses one fact short each', () => {
    const bf = run('brute-force-success.yaml');
    expect(bf.map((e) => e.success)).toEqual([false, false, false, false, false, false, true]);
    expect(distinct(bf.map(by))).toBe(1);
    expect(distinct(bf.map((e) => e.client_ip))).toBe(1);
    expect([minutes(bf[0]!, bf[5]!), minutes(bf[0]!, bf[6]!)]).toEqual([7.5, 9]);
    expect(failures(run('near-misses/brute-force-4-failures.yaml'))).toHaveLength(4);
    const two = run('near-misses/brute-force-two-users.yaml');
    expect(distinct(failures(two).map(by))).toBe(2);
    const perUser = [...new Set(failures(two).map(by))].map((u) => failures(two).filter((e) => by(e) === u).length);
    expect(perUser.sort()).toEqual([2, 3]);
    const slow = failures(run('near-misses/brute-force-slow.yaml'));
    expect([slow.length, minutes(slow[0]!, slow.at(-1)!)]).toEqual([5, 20]);
    expect(run('near-misses/brute-force-no-success.yaml').some((e) => e.success)).toBe(false);
  });

  it('MFA removed: TOTP deleted and MFA excluded by an admin, then a login without MFA; near miss adds MFA', () => {
    const [del, update, login] = run('mfa-removed.yaml');
    expect([del!.event_type, update!.event_type, login!.event_type]).toEqual([
      'totp_delete_enrollment',
      'user_update',
      'user_login_attempt',
    ]);
    expect(target(del!)).toBe('lukasz.wojcik');
    expect(del!.changes).toEqual([{ field: 'totp_enabled', from: true, to: false }]);
    expect(update!.changes).toContainEqual({ field: 'enable_user_portal_multifactor', from: true, to: false });
    expect([by(login!), login!.mfa, login!.success]).toEqual(['lukasz.wojcik', false, true]);
    const added = run('near-misses/mfa-enrolled.yaml');
    expect(added.at(-1)!.changes).toEqual([{ field: 'enable_user_portal_multifactor', from: false, to: true }]);
  });

  it('admin created and granted rights; near miss: created read-only, only renamed', () => {
    const [created, raised, login] = run('admin-created-granted.yaml');
    expect(target(created!)).toBe(target(raised!));
    expect(by(created!)).toBe(by(raised!));
    expect(raised!.changes).toEqual([{ field: 'roleName', from: 'Read Only', to: 'Administrator with Billing' }]);
    expect(by(login!)).toBe(target(created!));
    const renamed = run('near-misses/admin-created-read-only.yaml')[1]!;
    expect(renamed.changes).toEqual([{ field: 'lastname', from: '', to: 'Edited' }]);
  });

  it('command created then run by the same admin within an hour; near misses: another admin, two hours', () => {
    const cmd = run('command-create-run.yaml');
    expect(cmd.map((e) => e.event_type)).toEqual(['command_create', 'command_run', 'command_run', 'command_run']);
    expect(distinct(cmd.map((e) => (e.resource as { id: string }).id))).toBe(1);
    expect(distinct(cmd.map(by))).toBe(1);
    expect(distinct(cmd.slice(1).map((e) => (e.system as { id: string }).id))).toBe(3);
    expect(minutes(cmd[0]!, cmd.at(-1)!)).toBeLessThan(60);
    const other = run('near-misses/command-run-other-admin.yaml');
    expect(distinct(other.map((e) => (e.resource as { id: string }).id))).toBe(1);
    expect(distinct(other.map(by))).toBe(2);
    const late = run('near-misses/command-run-late.yaml');
    expect([distinct(late.map(by)), minutes(late[0]!, late[1]!)]).toEqual([1, 120]);
  });

  it('mass user deletion: 12 users by one admin in 11 minutes; near misses: 9 users, two admins, 22 minutes', () => {
    const del = run('mass-user-deletion.yaml');
    const facts = [del.length, distinct(del.map(target)), distinct(del.map(by)), minutes(del[0]!, del.at(-1)!)];
    expect(facts).toEqual([12, 12, 1, 11]);
    expect(distinct(run('near-misses/mass-user-deletion-9.yaml').map(target))).toBe(9);
    const two = run('near-misses/mass-user-deletion-two-admins.yaml');
    expect([distinct(two.map(target)), distinct(two.map(by))]).toEqual([12, 2]);
    const slow = run('near-misses/mass-user-deletion-slow.yaml');
    expect(minutes(slow[0]!, slow.at(-1)!)).toBe(22);
  });

  it('two countries within an hour; near misses: one country, three hours', () => {
    const country = (e: Ev): string => (e.geoip as { country_code: string }).country_code;
    const [fr, br] = run('two-countries.yaml');
    expect([country(fr!), country(br!), minutes(fr!, br!), by(fr!) === by(br!)]).toEqual(['FR', 'BR', 40, true]);
    expect(run('near-misses/two-countries-same-country.yaml').map(country)).toEqual(['FR', 'FR']);
    const apart = run('near-misses/two-countries-apart.yaml');
    expect([apart.map(country), minutes(apart[0]!, apart[1]!)]).toEqual([['FR', 'BR'], 180]);
  });
});

describe('scenario events', () => {
  it('are deterministic: the same file, seed, start and org give the same events, ids included', () => {
    const opts = { start: START, orgId: 'o1', seed: 4 };
    const a = scenarioEvents(join(DIR, 'password-spray.yaml'), opts);
    expect(scenarioEvents(join(DIR, 'password-spray.yaml'), opts)).toEqual(a);
    const b = scenarioEvents(join(DIR, 'password-spray.yaml'), { ...opts, seed: 5 });
    expect(b.map((e) => e.ms)).toEqual(a.map((e) => e.ms));
    expect(b.map((e) => JSON.parse(e.event).id)).not.toEqual(a.map((e) => JSON.parse(e.event).id));
    const later = scenarioEvents(join(DIR, 'password-spray.yaml'), { ...opts, start: START + MIN });
    expect(later.map((e) => e.ms)).toEqual(a.map((e) => e.ms + MIN));
    for (const e of parsed(a)) {
      expect(e.organization).toBe(organizationId('o1', 4));
      expect(Object.keys(e).slice(-2)).toEqual(['id', 'timestamp']);
      expect(e.id).toMatch(/^[0-9a-f]{24}$/);
    }
  });

  it('take any field by dotted path, and spell RADIUS as RADIUS does', () => {
    const file = join(work, 'sudo.yaml');
    writeFileSync(
      file,
      [
        'description: a user bound to a device with sudo, then a RADIUS login',
        'steps:',
        '  - type: association_change',
        '    actor: admin[0]',
        '    target: user[2]',
        '    set: { association.attributes.sudo.enabled: true, association.attributes.sudo.withoutPassword: true }',
        '  - at: 1500ms',
        '    type: radius_auth_attempt',
        '    actor: user[2]',
      ].join('\n'),
    );
    const [assoc, radius] = run(file);
    const attributes = (assoc!.association as Record<string, unknown>).attributes;
    expect(attributes).toEqual({ sudo: { enabled: true, withoutPassword: true } });
    expect((assoc!.association as { connection: { to: { name: string } } }).connection.to.name).toBe('jose.alvarez');
    expect(radius!.timestamp).toBe('2026-06-01T12:00:01Z');
    expect(radius!.id).toMatch(/^[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}$/);
  });

  it('refuse a bad file with its name, the step and the fix', () => {
    const step = 'description: d\nsteps:\n  - type: user_delete\n';
    const cases: [string, RegExp][] = [
      ['steps: []', /bad\.yaml: no description: say what the scenario produces/],
      ['description: d\nsteps: []', /bad\.yaml: steps: the list is empty/],
      [
        'description: d\nsteps:\n  - type: user_login_atempt',
        /steps\[0\]\.type: unknown event type "user_login_atempt"; did you mean "user_login_attempt"\?/,
      ],
      [`${step}    repat: 3`, /steps\[0\]: unknown key "repat"; did you mean "repeat"\? Accepted keys:\n {2}at: /],
      [`${step}    repeat: 3`, /steps\[0\]: repeat 3 needs every: the gap between the events/],
      [`${step}  - type: user_delete\n    at: 10`, /steps\[1\]\.at: "10" has no unit/],
      [`${step}    actor: root`, /steps\[0\]\.actor: expected an identity such as user\[i\]/],
      [`${step}    client_ip: \${ip}`, /steps\[0\]\.client_ip: \$\{ip\} names nothing/],
      [`${step}    geoip: XX`, /steps\[0\]\.geoip: expected a country code \(FR, US/],
      [`${step}    success: "no"`, /steps\[0\]\.success: expected true or false \(got "no"\)/],
      ['description: [unclosed', /bad\.yaml: not valid YAML: /],
    ];
    const file = join(work, 'bad.yaml');
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      expect(() => loadScenario(file), text).toThrow(message);
    }
    expect(() => loadScenario(join(work, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read it \(ENOENT\)/);
    writeFileSync(file, 'description: d\nsteps:\n  - type: admin_lockout\n    stream: provider');
    expect(() => scenarioEvents(file, { start: START })).toThrow(/steps\[0\] is a provider's .*--providers ID/);
  });
});

describe('the simulator with scenarios', () => {
  it("serves each scenario event exactly, among generated ones, in an org's and a provider's streams", async () => {
    const portal = join(work, 'portal.yaml');
    const steps = 'steps:\n  - type: admin_lockout\n    stream: provider\n    at: 5m';
    writeFileSync(portal, `description: an MSP admin locked out\n${steps}`);
    const sim = await startSimulator({
      clock: manualClock(START + 40 * MIN),
      orgs: ['o1', 'o2'],
      providers: ['msp'],
      services: ['directory'],
      eventsPerMinute: 30,
      from: START - 60 * MIN,
      indexDelay: { maxMs: 0 },
      scenarios: [
        { scenario: join(DIR, 'password-spray.yaml'), start: START, orgId: 'o2' },
        { scenario: portal, start: START },
      ],
    });
    try {
      expect(sim.scenarioEvents).toHaveLength(9);
      const post = async (headers: Record<string, string>): Promise<string[]> => {
        const res = await fetch(`${sim.url}/events`, {
          method: 'POST',
          headers: { 'x-api-key': sim.apiKey, ...headers },
          body: JSON.stringify({ service: ['all'], start_time: iso(START - 60 * MIN), limit: 10_000 }),
        });
        return ((await res.json()) as unknown[]).map((e) => JSON.stringify(e));
      };
      const o2 = await post({ 'x-org-id': 'o2' });
      const spray = sim.scenarioEvents.filter((e) => e.orgId === 'o2').map((e) => JSON.stringify(JSON.parse(e.event)));
      expect(spray).toHaveLength(8);
      for (const e of spray) expect(o2).toContain(e);
      expect(o2.length).toBeGreaterThan(1000);
      expect((await post({ 'x-org-id': 'o1' })).some((e) => spray.includes(e))).toBe(false);
      const portalEvents = await post({ 'x-provider-id': 'msp' });
      const lockout = portalEvents.filter((e) => e.includes('"admin_lockout"') && e.includes('T12:05:00.000Z'));
      const scripted = sim.scenarioEvents.find((e) => e.providerId === 'msp')!;
      expect(lockout).toEqual([JSON.stringify(JSON.parse(scripted.event))]);
    } finally {
      await sim.close();
    }
  });
});
