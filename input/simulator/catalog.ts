// The Directory Insights event catalog: every event type of the "Event Types" tables in the description of
// JumpCloud's OpenAPI document (test/conformance/di-openapi.yaml), with the service whose stream carries it, the
// family of its shape (how render/ builds its body) and its relative frequency. test/unit/simulator/catalog.test.ts
// holds this list equal to those tables. One declaration: the generator, the scenarios and sampleEvent read it.
//
// Services are the query names of the API (its `service` enum). Where the description's attribute tables spell
// the event's `service` otherwise (`ai-admin`, `generic-di`), events carry the query name: the stream a query
// selects and the value in its events agree, as they do for every service seen in real data.
// Weights are events per 10,000 of the service's stream (roughly): logins, SSO and password-manager unlocks
// dominate; admin changes are rare; org-level switches rarest.
import { closest } from '../argv.js';
import { hash32, hashString, hex, prng } from './random.js';
import { fillHoles, renderBody } from './render.js';
import { eventId, organizationId, providerObjectId, stampTime, type ServiceFormat } from './stamp.js';
import type { CatalogEntry, Family } from './entry.js';

export type { CatalogEntry, Family } from './entry.js';
export type { ServiceFormat } from './stamp.js';

/** Sections of the description, as its headings name them (without the leading "## "). */
export const MTP_SECTION = 'Directory - MTP/MSP Events';
export const REAL_DATA_SECTION = 'real data (not in the API description)';

/**
 * Types real events carry that the description does not list. RADIUS: real events (JumpCloud's exports, Elastic's
 * and Sekoia's test events, fixtures/samples) are `radius_auth_attempt`; the description says `radius_auth`. The
 * generator serves the real name; `radius_auth` stays in the catalog at weight 0 (sampleEvent and scenarios can
 * still make one) because no real event is known to carry it.
 */
export const REAL_DATA_TYPES: Readonly<Record<string, string>> = {
  radius_auth_attempt: 'radius',
};

type Row = readonly [type: string, weight: number, family?: Family];

interface Section {
  readonly name: string;
  readonly service: string;
  readonly family: Family;
  readonly rows: readonly Row[];
  /** Rows go to the provider stream (weights are providerWeight). */
  readonly provider?: boolean;
}

const crud = (base: string, w: readonly [number, number, number], family?: Family): Row[] => [
  [`${base}_create`, w[0], family],
  [`${base}_update`, w[1], family],
  [`${base}_delete`, w[2], family],
];

const SECTIONS: readonly Section[] = [
  {
    name: 'Directory - Object Events',
    service: 'directory',
    family: 'object_change',
    rows: [
      ['application_create', 3],
      ['application_delete', 1],
      ['application_update', 6],
      ['association_change', 300, 'association'],
      ['group_create', 8],
      ['group_delete', 3],
      ['group_update', 30],
      ['group_warning', 4],
      ['integrationattribute_include', 2],
      ['integrationattribute_exclude', 1],
      ['invoice_download', 1],
      ['notification_delete', 4],
      ['organization_create', 0.3],
      ['organization_update', 2],
      ['system_create', 25],
      ['system_delete', 8],
      ['system_update', 60],
      ['radiusserver_create', 1],
      ['radiusserver_delete', 0.5],
      ['radiusserver_update', 2],
      ['user_group_admin_grant', 1, 'association'],
      ['user_group_admin_revoke', 0.5, 'association'],
    ],
  },
  {
    name: 'Directory - User and Admin Events',
    service: 'directory',
    family: 'object_change',
    rows: [
      ['admin_create', 1],
      ['admin_delete', 0.5],
      ['admin_login_attempt', 600, 'portal_auth'],
      ['admin_password_reset_request', 2, 'account'],
      ['admin_update', 4],
      ['admin_totp_start_enrollment', 0.5, 'mfa_enrollment'],
      ['admin_totp_finish_enrollment', 0.5, 'mfa_enrollment'],
      ['admin_totp_disable', 0.3, 'mfa_enrollment'],
      ['totp_start_enrollment', 10, 'mfa_enrollment'],
      ['totp_finish_enrollment', 9, 'mfa_enrollment'],
      ['totp_delete_enrollment', 3, 'mfa_enrollment'],
      ['user_create', 30],
      ['user_delete', 8],
      ['user_lockout', 15, 'account'],
      ['user_login_attempt', 3000, 'portal_auth'],
      ['user_mfa_exclusion_expired', 3, 'account'],
      ['user_password_expired', 10, 'account'],
      ['user_password_reset_request', 25, 'account'],
      ['user_password_warning_email', 40, 'account'],
      ['user_update', 400],
      ['user_password_change', 60, 'account'],
      ['user_activated', 20, 'account'],
      ['user_activation_email', 25, 'account'],
      ['user_password_set', 20, 'account'],
      ['user_unlocked', 12, 'account'],
      ['user_suspended', 6, 'account'],
      ['user_unsuspended', 4, 'account'],
      ['user_activation_schedule_create', 1],
      ['user_activation_schedule_delete', 0.3],
      ['user_suspension_schedule_create', 1],
      ['user_suspension_schedule_delete', 0.3],
      ['admin_password_change', 1, 'account'],
      ['user_create_provision', 20],
      ['user_update_provision', 60],
      ['user_delete_provision', 5],
      ['user_admin_granted', 2, 'association'],
      ['user_admin_revoked', 1, 'association'],
    ],
  },
  {
    name: 'Directory - Command and Policy Events',
    service: 'directory',
    family: 'object_change',
    rows: [
      ['command_create', 3, 'command'],
      ['command_delete', 1, 'command'],
      ['command_run', 40, 'command'],
      ['command_update', 6, 'command'],
      ['commandresult_delete', 10, 'command'],
      ['file_create', 1, 'command'],
      ['file_delete', 0.5, 'command'],
      ['file_update', 0.5, 'command'],
      ['policy_create', 2],
      ['policy_delete', 1],
      ['policy_update', 5],
      // The description lists `authpolicy_update` (not authnpolicy_update) beside authnpolicy_create/delete.
      ['authnpolicy_create', 1],
      ['authnpolicy_delete', 0.5],
      ['authpolicy_update', 2],
      ['iplist_create', 0.5],
      ['iplist_delete', 0.3],
      ['iplist_update', 1],
    ],
  },
  {
    name: 'Directory - Integrations',
    service: 'directory',
    family: 'object_change',
    rows: [
      ['activedirectory_create', 0.2],
      ['activedirectory_delete', 0.1],
      ...crud('idsource', [0.2, 2, 0.1]),
      ...crud('sambadomain', [0.1, 0.3, 0.1]),
      ...crud('workday', [0.1, 0.5, 0.1]),
      ['integration_activate', 0.3],
      ['integration_deactivate', 0.2],
      ...crud('gsuite_directory', [0.2, 2, 0.1]),
      ...crud('o365_directory', [0.2, 2, 0.1]),
      ['integration_domain_add', 0.3],
      ['integration_domain_delete', 0.1],
      ['integration_default_domain_add', 0.1],
      ['integration_default_domain_update', 0.1],
      ['integration_default_domain_delete', 0.05],
    ],
  },
  // The Multi-Tenant Portal: what a provider's admins do there, served to x-provider-id queries. The types this
  // section shares with the directory sections (admin_login_attempt, admin_create, …) are also org events.
  {
    name: MTP_SECTION,
    service: 'directory',
    family: 'object_change',
    provider: true,
    rows: [
      ['admin_unsuspend', 0.5, 'account'],
      ['admin_create', 3],
      ['admin_delete', 1],
      ['admin_lockout', 2, 'account'],
      ['admin_login_attempt', 500, 'portal_auth'],
      ['admin_password_reset_request', 2, 'account'],
      ['admin_suspended', 1, 'account'],
      ['admin_update', 6],
      ['organization_create', 2],
      ['organization_update', 8],
      ['provider_update', 1],
      ['mtp_download_invoice', 2],
      ['msp_ticket_create', 20],
      ...['connectwise', 'autotask', 'syncro'].flatMap((p): Row[] => [
        ...crud(`${p}_integration`, [0.3, 1, 0.1]),
        ...crud(`${p}_billing_mapping`, [0.5, 1, 0.2]),
        ...crud(`${p}_company_mapping`, [1, 2, 0.3]),
        [`${p}_settings_update`, 0.5],
      ]),
    ],
  },
  { name: 'RADIUS Events', service: 'radius', family: 'radius_auth', rows: [['radius_auth', 0]] },
  { name: 'SSO Events', service: 'sso', family: 'sso_auth', rows: [['sso_auth', 1]] },
  {
    name: 'Systems Events',
    service: 'systems',
    family: 'system_event',
    rows: [
      ['login_attempt', 800, 'system_auth'],
      ['system_fde_key_update', 5],
      ['user_password_change', 10],
      ['user_lockout', 8],
      ['system_fde_key_decrypt', 0.5],
      ['os_minor_upgrade', 10],
      ['os_major_upgrade', 1],
      ['os_minor_rollback', 0.2],
      ['os_major_rollback', 0.1],
      ['remote_session_start', 2],
      ['remote_session_join', 3],
      ['remote_session_end', 2],
      ['remote_session_feedback', 0.5],
      ['google_emm_create', 0.1],
      ['google_emm_delete', 0.05],
      ['google_emm_patch', 0.2],
      ['device_command', 2],
    ],
  },
  {
    name: 'Password Manager Events',
    service: 'password_manager',
    family: 'password_manager',
    rows: [
      ['passwordmanager_enable', 0.1],
      ['passwordmanager_disable', 0.05],
      ['passwordmanager_user_enable', 2],
      ['passwordmanager_user_disable', 0.5],
      ['passwordmanager_user_activate', 2],
      ['passwordmanager_user_deactivate', 0.5],
      ['passwordmanager_user_reactivate', 0.3],
      ['passwordmanager_folder_create', 5],
      ['passwordmanager_folder_delete', 1],
      ['passwordmanager_folder_member_add', 6],
      ['passwordmanager_folder_member_update', 2],
      ['passwordmanager_folder_member_remove', 2],
      ['passwordmanager_item_add', 30],
      ['passwordmanager_item_update', 25],
      ['passwordmanager_item_remove', 5],
      ['passwordmanager_item_move', 3],
      ['passwordmanager_user_device_pair', 2],
      ['passwordmanager_user_device_unpair', 0.5],
      ['passwordmanager_user_signup', 1],
      ['passwordmanager_user_re-enable', 0.2],
      ['passwordmanager_user_update', 1],
      ['passwordmanager_backup_create', 20],
      ['passwordmanager_backup_request', 0.3],
      ['passwordmanager_backup_key_create', 0.3],
      ['passwordmanager_backup_key_delete', 0.1],
      // Listed twice in the description's table: one entry.
      ['passwordmanager_backup_request_restore', 0.1],
      ['passwordmanager_backup_enable', 0.1],
      ['passwordmanager_backup_disable', 0.05],
      ['passwordmanager_backup_key_regenerate', 0.1],
      ['passwordmanager_backup_request_cancel', 0.05],
      ['passwordmanager_backup_request_reject', 0.05],
      ['passwordmanager_backup_request_approve', 0.2],
      ['passwordmanager_sharedfolders_policy_group_add', 0.2],
      ['passwordmanager_sharedfolders_policy_user_add', 0.2],
      ['passwordmanager_sharedfolders_policy_group_remove', 0.1],
      ['passwordmanager_sharedfolders_policy_user_remove', 0.1],
      ['passwordmanager_sharedfolders_policy_update', 0.2],
      ['passwordmanager_user_remove', 0.5],
      ['passwordmanager_folder_group_add', 1],
      ['passwordmanager_folder_group_update', 0.5],
      ['passwordmanager_folder_group_remove', 0.5],
      ['passwordmanager_folder_update', 2],
      ['passwordmanager_item_reveal', 60],
      ['passwordmanager_item_copy', 150],
      ['passwordmanager_item_autofill', 300],
      ['passwordmanager_force_sync', 10],
      ['passwordmanager_app_update', 5],
      ['passwordmanager_local_backup_create', 2],
      ['passwordmanager_items_export', 0.5],
      ['passwordmanager_pincode_update', 1],
      ['passwordmanager_local_backup_path_update', 0.3],
      ['passwordmanager_paranoid_mode_enable', 0.3],
      ['passwordmanager_paranoid_mode_disable', 0.2],
      ['passwordmanager_extension_settings_update', 1],
      ['passwordmanager_item_settings_update', 2],
      ['passwordmanager_folder_force_sync', 2],
      ['passwordmanager_items_import', 1],
      ['passwordmanager_local_backup_restore', 0.2],
      ['passwordmanager_mini_launch', 40],
      ['passwordmanager_app_unlock', 300],
      ['passwordmanager_item_history_reveal', 3],
      ['passwordmanager_item_history_restore', 0.5],
      ['passwordmanager_extension_unlock', 250],
      ['passwordmanager_extension_pair', 1],
      ['passwordmanager_extension_site_exclusion', 1],
    ],
  },
  {
    name: 'Password Vault Events',
    service: 'password_vault',
    family: 'password_vault',
    rows: [
      ['passwordvault_enable', 0.1],
      ['passwordvault_disable', 0.05],
      ['passwordvault_user_enable', 2],
      ['passwordvault_user_disable', 0.5],
      ...[
        ['add', 20],
        ['delete', 3],
        ['update', 15],
        ['shareuser', 5],
        ['shareusergroup', 3],
        ['viewsecret', 60],
        ['viewdetail', 80],
        ['archive', 1],
        ['copy', 120],
        ['reveal', 60],
        ['duplicate', 1],
        ['autofill', 200],
        ['export', 0.3],
        ['import', 0.5],
        ['history_reveal', 2],
      ].map(([op, w]): Row => [`passwordvault_credential_${op}`, Number(w)]),
      ...[
        ['add', 10],
        ['delete', 2],
        ['update', 8],
        ['linkcredential', 5],
        ['shareuser', 3],
        ['shareusergroup', 2],
        ['connect', 20],
        ['viewdetails', 30],
        ['archive', 1],
        ['copy', 10],
        ['duplicate', 0.5],
      ].map(([op, w]): Row => [`passwordvault_website_${op}`, Number(w)]),
      ['passwordvault_websites_export', 0.2],
      ...['sharedfolder', 'personalfolder'].flatMap((f): Row[] => [
        [`passwordvault_${f}_create`, 2],
        [`passwordvault_${f}_delete`, 0.5],
        [`passwordvault_${f}_user_add`, 3],
        [`passwordvault_${f}_group_add`, 1],
        [`passwordvault_${f}_user_update`, 1],
        [`passwordvault_${f}_user_remove`, 1],
        [`passwordvault_${f}_credential_add`, 4],
        [`passwordvault_${f}_website_add`, 2],
        [`passwordvault_${f}_credential_update`, 2],
        [`passwordvault_${f}_website_update`, 1],
        [`passwordvault_${f}_credential_remove`, 1],
        [`passwordvault_${f}_website_remove`, 0.5],
      ]),
    ],
  },
  {
    name: 'Software Events',
    service: 'software',
    family: 'software',
    rows: [
      ['software_add', 30],
      ['software_change', 60],
      ['software_remove', 10],
      ['software_add_request', 2],
      ['software_change_request', 1],
      ['software_remove_request', 0.5],
    ],
  },
  {
    name: 'LDAP Events',
    service: 'ldap',
    family: 'ldap',
    rows: [
      ['ldap_bind', 6],
      ['ldap_search', 4],
    ],
  },
  {
    name: 'MDM Events',
    service: 'mdm',
    family: 'mdm',
    rows: [
      ['mdm_command_result', 50],
      ['device_enrollment', 2],
      ['configuration_file_download', 1],
    ],
  },
  {
    name: 'Notification Channel Events',
    service: 'notifications',
    family: 'notification_channel',
    rows: [
      ['notification_channel_created', 2],
      ['notification_channel_updated', 3],
      ['notification_channel_deleted', 1],
    ],
  },
  {
    name: 'Object Storage Events',
    service: 'object_storage',
    family: 'object_storage',
    rows: [
      ['object_storage_create', 3],
      ['object_storage_upload_validation_result', 3],
      ['object_storage_get_download_url_request', 40],
      ['object_storage_delete', 1],
    ],
  },
  // The description's list of services says `alert`; its enum, its examples and the attribute table say `alerts`.
  {
    name: 'Alert Events',
    service: 'alerts',
    family: 'alert',
    rows: [
      ['alert_created', 20],
      ['alert_updated', 5],
      ['alert_status_updated', 15],
      ['rule_created', 1],
      ['rule_modified', 1],
      ['rule_deleted', 0.3],
    ],
  },
  {
    name: 'SaaS Management Events',
    service: 'saas_app_management',
    family: 'saas_management',
    rows: [
      ['saas_management_enable', 0.1],
      ['saas_management_disable', 0.05],
      ['saas_management_settings_update', 0.5],
      ['saas_management_application_discover', 10],
      ['saas_management_event_application_review', 3],
      ['saas_management_application_update', 3],
      ['saas_management_application_access_restriction_update', 1],
      ['saas_management_application_license_update', 1],
      ['saas_management_application_delete', 0.5],
      ['saas_management_connector_create', 0.3],
      ['saas_management_connector_update', 0.5],
      ['saas_management_connector_delete', 0.1],
      ['saas_management_account_discover', 20],
      ['saas_management_account_user_assign', 5],
      ['saas_management_account_delete', 1],
      ['saas_management_tenant_discover', 0.5],
      ['saas_management_login_event', 200],
    ],
  },
  {
    name: 'Access Management Events',
    service: 'access_management',
    family: 'access_management',
    rows: [
      ['access_management_access_request', 20],
      ['access_management_access_request_approval', 18],
      ['access_management_association_change', 15],
      ['access_management_approval_flow_create', 0.5],
      ['access_management_approval_flow_update', 1],
      ['access_management_approval_flow_delete', 0.2],
      ['access_management_access_request_settings_update', 0.3],
    ],
  },
  {
    name: 'Reports Events',
    service: 'reports',
    family: 'report',
    rows: [
      ['report_run', 30],
      ['report_export', 10],
      ['report_create', 2],
      ['report_update', 2],
      ['report_delete', 0.5],
      ['custom_report_create', 1],
      ['custom_report_update', 1],
      ['custom_report_delete', 0.3],
    ],
  },
  // Scheduled reports are logged under the reports service (the description names no service of their own).
  {
    name: 'Scheduled Reports Events',
    service: 'reports',
    family: 'report',
    rows: [
      ['scheduled_report_create', 1],
      ['scheduled_report_update', 1],
      ['scheduled_report_delete', 0.3],
      ['scheduled_report_run_success', 12],
      ['scheduled_report_run_failed', 1],
    ],
  },
  {
    name: 'Asset Management Events',
    service: 'asset_management',
    family: 'asset',
    rows: [
      ['asset_management_enable', 0.1],
      ['asset_management_disable', 0.05],
      ['asset_management_general_settings_update', 0.5],
      ['asset_management_field_setting_create', 0.5],
      ['asset_management_field_setting_update', 0.5],
      ['asset_management_field_setting_delete', 0.2],
      ['asset_management_asset_create', 10],
      ['asset_management_asset_update', 20],
      ['asset_management_asset_delete', 2],
    ],
  },
  {
    name: 'Genai Events',
    service: 'genai',
    family: 'ai',
    rows: [
      ['genai_ai_assistant_chat_created', 10],
      ['genai_ai_assistant_chat_updated', 5],
      ['genai_ai_assistant_chat_deleted', 2],
      ['genai_ai_assistant_chat_message_sent', 40],
    ],
  },
  {
    name: 'Aigw Events',
    service: 'aigw',
    family: 'ai',
    rows: [
      ['aigw_session_opened', 10],
      ['aigw_session_activity', 60],
      ['aigw_session_closed', 10],
    ],
  },
  {
    name: 'AI Admin Events',
    service: 'ai_admin',
    family: 'ai',
    rows: [...crud('server', [1, 2, 0.3]), ...crud('redirect_uri', [1, 1, 0.3])],
  },
  {
    name: 'Generic DI Events',
    service: 'generic_di',
    family: 'risk',
    rows: [
      ['risk_event_created', 20],
      ['risk_event_resolved', 12],
      ['risk_events_bulk_resolved', 1],
      ['ca_created', 0.1, 'certificate'],
      ['cert_issued_manual', 2, 'certificate'],
      ['cert_revoked', 1, 'certificate'],
      ['cert_issued_self_service', 5, 'certificate'],
      ['cert_issued_scep', 10, 'certificate'],
    ],
  },
];

/** Real-data types: weight on the org stream of their service. */
const REAL_DATA_ROWS: readonly (readonly [string, number, Family])[] = [['radius_auth_attempt', 1, 'radius_auth']];

function buildCatalog(): CatalogEntry[] {
  const byKey = new Map<string, { -readonly [K in keyof CatalogEntry]: CatalogEntry[K] }>();
  for (const s of SECTIONS) {
    for (const [type, weight, family] of s.rows) {
      const key = `${s.service}\u0000${type}`;
      const seen = byKey.get(key);
      if (seen) {
        // The same type listed again under the same service: in the MTP section, its provider weight.
        if (!seen.sections.includes(s.name)) seen.sections = [...seen.sections, s.name];
        if (s.provider) seen.providerWeight = weight;
        continue;
      }
      byKey.set(key, {
        type,
        service: s.service,
        family: family ?? s.family,
        weight: s.provider ? 0 : weight,
        providerWeight: s.provider ? weight : 0,
        section: s.name,
        sections: [s.name],
      });
    }
  }
  for (const [type, weight, family] of REAL_DATA_ROWS) {
    const service = REAL_DATA_TYPES[type]!;
    byKey.set(`${service}\u0000${type}`, {
      type,
      service,
      family,
      weight,
      providerWeight: 0,
      section: REAL_DATA_SECTION,
      sections: [REAL_DATA_SECTION],
    });
  }
  return [...byKey.values()];
}

/** Every catalog entry: one per (service, type); a type listed under two services (user_lockout) has two. */
export const CATALOG: readonly CatalogEntry[] = buildCatalog();

/** The services that have catalog types, in catalog order: the simulator's default services. */
export const CATALOG_SERVICES: readonly string[] = [...new Set(CATALOG.map((e) => e.service))];

/** The entries a stream draws from: an org stream of `service`, or a provider's (MTP) stream. */
export function streamEntries(service: string, stream: 'org' | 'provider'): CatalogEntry[] {
  return CATALOG.filter((e) => e.service === service && (stream === 'org' ? e.weight : e.providerWeight) > 0);
}

/** The entry of `type` (under `service` when given; else its first). */
export function catalogEntry(type: string, service?: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.type === type && (service === undefined || e.service === service));
}

const FORMATS: Readonly<Record<string, ServiceFormat>> = {
  radius: { id: 'uuid', time: 'seconds' },
  directory: { id: 'object-id', time: 'millis' },
  sso: { id: 'object-id', time: 'nanos' },
};

export function serviceFormat(service: string): ServiceFormat {
  return FORMATS[service] ?? { id: 'object-id', time: 'mixed' };
}

export interface SampleOptions {
  /** The service of a type listed under two (user_lockout: directory or systems); default its first. */
  readonly service?: string;
  /** The provider whose id provider events carry; default one derived from the org. */
  readonly provider?: string;
}

/** The epoch of sample events: their timestamps are this plus up to 30 days, by seed. */
const SAMPLE_EPOCH_MS = Date.UTC(2026, 2, 1, 12, 0, 0);

/**
 * One complete event of `type` (id and timestamp included), deterministic in seed: tests and the ECS check use it.
 * Types only on the provider stream (the Multi-Tenant Portal's) come as the provider stream serves them.
 */
export function sampleEvent(
  type: string,
  seed: number,
  org = '',
  options: SampleOptions = {},
): Record<string, unknown> {
  const entry = catalogEntry(type, options.service);
  if (!entry) {
    const near = closest(
      type,
      CATALOG.map((e) => e.type),
    );
    const hint = near ? `; did you mean "${near}"?` : '';
    throw new Error(`unknown event type "${type}"${hint} (the catalog: input/simulator/catalog.ts)`);
  }
  const r = prng(hash32(seed, hashString(`${entry.service}/${type}`)));
  const stream = entry.weight === 0 && entry.providerWeight > 0 ? 'provider' : 'org';
  const body = renderBody(entry, hash32(seed, hashString(type)), { stream });
  const format = serviceFormat(entry.service);
  const at = stampTime(format.time, SAMPLE_EPOCH_MS + Math.floor(r() * 30 * 86_400_000), r);
  const id = eventId(format.id, at.ms, hex(hash32(seed, 0x5a), 8) + '5a', Math.floor(r() * 0xffffff), r);
  const provider = providerObjectId(options.provider ?? org, seed);
  const text = fillHoles(JSON.stringify(body), organizationId(org, seed), provider);
  return { ...(JSON.parse(text) as Record<string, unknown>), id, timestamp: at.timestamp };
}
