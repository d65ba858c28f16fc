// The Splunk add-on's event-type lookup (splunk/TA-jumpcloud-directory-insights/lookups/), derived from the two
// declarations it must never drift from: the simulator's catalog of every documented event type
// (input/simulator/catalog.ts) and the filter's ECS categorization of each (filter/categories.ts). One row per
// event type: its CIM dataset, the CIM action a change has, change_type, object_category, the default
// object_attrs, the texts Alerts needs, and which sign-ins are privileged. make-lookup.ts writes the CSV; its
// --check mode and the CIM test hold the committed file equal to what this derives.
//
// The rules, from the ECS categorization (kind / category / type of the type's row):
// - kind `alert` → Alerts; category `authentication` → Authentication;
// - event.type creation / change / deletion / installation → Change: Account_Management when the category is
//   `iam` and the type says `user` (an account is made, changed or removed), else All_Changes;
// - anything else (information, access to secrets, sessions, command runs, reads) → no CIM dataset: the events
//   stay searchable by sourcetype, and no data model claims them.
import { CATALOG } from '../../../input/simulator/catalog.js';
import { categoryTable, type Categorized } from '../../support/categories.js';

export const LOOKUP_DIR = new URL('../../../splunk/TA-jumpcloud-directory-insights/lookups/', import.meta.url);
export const LOOKUP_FILE = 'jumpcloud_di_event_types.csv';
export const LOOKUP_PATH = new URL(LOOKUP_FILE, LOOKUP_DIR);

export const COLUMNS = [
  'event_type',
  'jumpcloud_cim_dataset',
  'action',
  'change_type',
  'object_category',
  'object_attrs',
  'signature',
  'description',
  'type',
  'authentication_service',
  'jumpcloud_privileged',
] as const;
export type Column = (typeof COLUMNS)[number];
export type LookupRow = Readonly<Record<Column, string>>;

export const DATASETS = ['Authentication', 'All_Changes', 'Account_Management', 'Alerts'] as const;

/** Change datasets' change_type by ECS category: the category itself, `iam` as CIM's "AAA". */
const CHANGE_TYPE: Readonly<Record<string, string>> = {
  iam: 'AAA',
  configuration: 'configuration',
  file: 'file',
  host: 'host',
  package: 'package',
  api: 'api',
};

/** The verbs DI type names end with; the object is what precedes them (`passwordmanager_item_add` → item). */
const VERBS = new Set([
  'create',
  'update',
  'delete',
  'add',
  'remove',
  'enable',
  'disable',
  'created',
  'updated',
  'deleted',
  'modified',
  'change',
  'patch',
  'import',
  'duplicate',
  'archive',
  'restore',
  'move',
  'regenerate',
  'include',
  'exclude',
  'activate',
  'deactivate',
  'request',
  'cancel',
  'reject',
  'approve',
]);

/** Change types whose name does not end with a verb, or whose object is better named otherwise. */
const OBJECT_OVERRIDES: Readonly<Record<string, string>> = {
  association_change: 'association',
  access_management_association_change: 'access_management_association',
  access_management_access_request_approval: 'access_management_access_request',
  os_minor_upgrade: 'operating_system',
  os_major_upgrade: 'operating_system',
  os_minor_rollback: 'operating_system',
  os_major_rollback: 'operating_system',
  device_command: 'device',
  device_enrollment: 'device',
  passwordmanager_extension_site_exclusion: 'passwordmanager_extension_settings',
  passwordvault_website_linkcredential: 'passwordvault_website',
  saas_management_event_application_review: 'saas_management_application',
  cert_issued_manual: 'certificate',
  cert_issued_self_service: 'certificate',
  cert_issued_scep: 'certificate',
  cert_revoked: 'certificate',
  // A file uploaded for a command: CIM's Change model leaves object_category=file to the Endpoint model.
  file_create: 'command_file',
  file_update: 'command_file',
  file_delete: 'command_file',
};

/**
 * The CIM action of types whose own fields do not say it. saas_management_login_event: JumpCloud's browser
 * extension reports a sign-in it saw happen into a SaaS application; the event has no success field.
 */
const ACTION_OVERRIDES: Readonly<Record<string, string>> = { saas_management_login_event: 'success' };

/** Authentication types that are sign-ins to the administrators' console: CIM's Privileged_Authentication. */
const PRIVILEGED = new Set(['admin_login_attempt']);

/** Alerts' description: what JumpCloud's detection is. */
const ALERT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  alert_created: 'JumpCloud raised an alert from one of its alert rules',
  risk_event_created: 'JumpCloud detected an access risk for a user',
};

/** `admin_login_attempt` → `Admin login attempt`. */
export function humanize(type: string): string {
  const words = type.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function datasetOf(c: Categorized): string {
  if (c.kind === 'alert') return 'Alerts';
  if (c.category.includes('authentication')) return 'Authentication';
  if (!c.type.some((t) => ['creation', 'change', 'deletion', 'installation'].includes(t))) return '';
  return c.category.includes('iam') && c.type.includes('user') ? 'Account_Management' : 'All_Changes';
}

/** The object a change type acts on: its override, else its name without the trailing verbs. */
export function objectOf(type: string): string {
  const override = OBJECT_OVERRIDES[type];
  if (override !== undefined) return override;
  const parts = type.split('_');
  while (parts.length > 1 && VERBS.has(parts[parts.length - 1]!)) parts.pop();
  const noun = parts.join('_');
  if (noun === type) {
    throw new Error(
      `test/system/splunk/lookup-table.ts: ${type} does not end with a verb of VERBS: ` +
        'add it to OBJECT_OVERRIDES with the object it changes',
    );
  }
  return noun;
}

function changeAction(c: Categorized): string {
  if (c.type.includes('creation') || c.type.includes('installation')) return 'created';
  if (c.type.includes('deletion')) return 'deleted';
  return 'modified';
}

function changeType(type: string, c: Categorized): string {
  const found = c.category.map((k) => CHANGE_TYPE[k]).find((v) => v !== undefined);
  if (found === undefined)
    throw new Error(
      `test/system/splunk/lookup-table.ts: no change_type for ${type} (category ${c.category.join(',')}): ` +
        'add it to CHANGE_TYPE',
    );
  return found;
}

function rowOf(type: string, service: string, c: Categorized): LookupRow {
  const dataset = datasetOf(c);
  const change = dataset === 'All_Changes' || dataset === 'Account_Management';
  let objectCategory = '';
  if (dataset === 'Account_Management') objectCategory = 'user';
  else if (change) objectCategory = c.category.includes('iam') && c.type.includes('group') ? 'group' : objectOf(type);
  const description = dataset === 'Alerts' ? ALERT_DESCRIPTIONS[type] : '';
  if (description === undefined)
    throw new Error(
      `test/system/splunk/lookup-table.ts: Alerts type ${type} has no description: add it to ALERT_DESCRIPTIONS`,
    );
  const outcome = c.outcome ?? '';
  return {
    event_type: type,
    jumpcloud_cim_dataset: dataset,
    action: change ? changeAction(c) : dataset === 'Authentication' ? (ACTION_OVERRIDES[type] ?? outcome) : '',
    change_type: change ? changeType(type, c) : '',
    object_category: objectCategory,
    // The attributes a change names come from the event's `changes`; without them, the object as a whole.
    object_attrs: objectCategory,
    signature: humanize(type),
    description,
    type: dataset === 'Alerts' ? 'alert' : '',
    authentication_service: dataset === 'Authentication' ? `jumpcloud:${service}` : '',
    jumpcloud_privileged: dataset === 'Authentication' && PRIVILEGED.has(type) ? 'true' : '',
  };
}

/** Every catalog type's row, sorted by type. Throws when a catalog type has no categorization. */
export function lookupRows(): LookupRow[] {
  const table = categoryTable();
  const rows = new Map<string, LookupRow>();
  for (const entry of CATALOG) {
    if (rows.has(entry.type)) continue; // a type under two services (user_lockout) is one row
    const c = table.get(entry.type);
    if (c === undefined) throw new Error(`filter/categories.ts has no row for the catalog type ${entry.type}`);
    rows.set(entry.type, rowOf(entry.type, entry.service, c));
  }
  for (const t of [...Object.keys(OBJECT_OVERRIDES), ...Object.keys(ALERT_DESCRIPTIONS), ...PRIVILEGED]) {
    if (!rows.has(t)) throw new Error(`test/system/splunk/lookup-table.ts names ${t}, which the catalog does not have`);
  }
  return [...rows.values()].sort((a, b) => (a.event_type < b.event_type ? -1 : 1));
}

/** A CSV field: quoted only when it must be (RFC 4180). */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(rows: readonly LookupRow[]): string {
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
}

/** Reads the CSV this module writes (RFC 4180 subset: quoted fields, no newlines inside). */
export function parseCsv(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l !== '');
  const split = (line: string): string[] => {
    const out: string[] = [];
    const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(line)) !== null) {
      const f = m[1]!;
      out.push(f.startsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f);
      if (m[2] === '') break;
    }
    return out;
  };
  const [head, ...body] = lines.map(split);
  return body.map((cells, i) => {
    if (cells.length !== head!.length)
      throw new Error(`${LOOKUP_FILE} line ${i + 2}: ${cells.length} fields, the header has ${head!.length}`);
    return Object.fromEntries(head!.map((h, j) => [h, cells[j]!]));
  });
}
