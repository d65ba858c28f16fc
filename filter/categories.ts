// ECS categorization of every documented event type (the "Event Types" tables of JumpCloud's Directory Insights
// API description), one line per type or type pattern: event.category, event.type, and where it is not `event`,
// event.kind; an outcome where the type itself says it. jumpcloud_elastic looks the event's type up in a hash
// built from these lines at start-up (categorize.ts); a type not listed keeps event.kind "event" and gets no
// category (no guess). docs/ecs-mapping.md shows this table (test/unit/filter/make-categories-doc.ts writes it).
//
// Plain data, valid TypeScript as well as AssemblyScript: the tests and the doc generator read it too.
// Values are ECS 8.11's allowed values; every event.type is among the expected types of every category of its
// row (test/unit/filter/ecs-schema.test.ts checks both against Elastic's own field definitions).
//
// A pattern's `{a,b}` stands for each alternative (expanded at start-up: still exact types, never a wildcard).
// Choices the whole table follows:
// - authentication attempts are `authentication` / `info`, as Elastic's integration has its four login types;
// - a change to an account (state, password, MFA, privileges, membership of a sharing) is `iam` with `user`
//   or `group` and `change`; `creation` / `deletion` only when the account or group itself is made or removed;
// - the integration's own eight types keep its values; `user` (and `change` for user_unlocked) is added;
// - settings and objects of the product (policies, commands, integrations, applications, folders, reports)
//   are `configuration`, creation / change / deletion by the verb; secrets revealed, copied, autofilled or
//   exported (password manager, vault, disk encryption keys) are `configuration` / `access`;
// - JumpCloud's own detections (an alert or an access risk created) are `event.kind: alert`; their later
//   updates are events.

export class Row {
  pattern: string;
  category: string;
  types: string;
  kind: string;
  outcome: string;
  constructor(pattern: string, category: string, types: string, kind: string, outcome: string) {
    this.pattern = pattern;
    this.category = category;
    this.types = types;
    this.kind = kind;
    this.outcome = outcome;
  }
}

/** The lines below, in order. `category` and `types` are comma-separated lists. */
export const ROWS: Row[] = [];

function row(pattern: string, category: string, types: string, kind: string = 'event', outcome: string = ''): void {
  ROWS.push(new Row(pattern, category, types, kind, outcome));
}

const API = 'api';
const AUTH = 'authentication';
const CONF = 'configuration';
const DATABASE = 'database';
const FILE = 'file';
const HOST = 'host';
const IAM = 'iam';
const IDS = 'intrusion_detection';
const PACKAGE = 'package';
const PROCESS = 'process';
const SESSION = 'session';

// Directory: objects.
row('application_create', CONF, 'creation');
row('application_update', CONF, 'change');
row('application_delete', CONF, 'deletion');
row('association_change', IAM, 'change'); // a user, system or group bound to / unbound from another
row('group_create', IAM, 'group,creation');
row('group_update', IAM, 'group,change');
row('group_delete', IAM, 'group,deletion');
row('group_warning', IAM, 'group,info'); // a dynamic group's member query has issues
row('integrationattribute_include', CONF, 'creation');
row('integrationattribute_exclude', CONF, 'deletion');
row('invoice_download', FILE, 'access');
row('notification_delete', CONF, 'deletion');
row('organization_create', CONF, 'creation');
row('organization_update', CONF, 'change');
row('system_create', CONF, 'creation'); // host.* from the resource; ECS `host` has no creation/deletion
row('system_update', CONF, 'change');
row('system_delete', CONF, 'deletion');
row('radiusserver_create', CONF, 'creation');
row('radiusserver_update', CONF, 'change');
row('radiusserver_delete', CONF, 'deletion');
row('user_group_admin_grant', IAM, 'group,change');
row('user_group_admin_revoke', IAM, 'group,change');

// Directory: users and admins (admins are accounts too: the action tells them apart).
row('admin_create', IAM, 'user,creation');
row('admin_update', IAM, 'user,change');
row('admin_delete', IAM, 'user,deletion');
row('admin_login_attempt', AUTH, 'info');
row('admin_password_reset_request', IAM, 'user,info');
row('admin_password_change', IAM, 'user,change');
row('admin_totp_start_enrollment', IAM, 'user,change');
row('admin_totp_finish_enrollment', IAM, 'user,change');
row('admin_totp_disable', IAM, 'user,change');
row('admin_lockout', IAM, 'user,change');
row('admin_suspended', IAM, 'user,change');
row('admin_unsuspend', IAM, 'user,change');
row('totp_start_enrollment', IAM, 'user,change');
row('totp_finish_enrollment', IAM, 'user,change');
row('totp_delete_enrollment', IAM, 'user,change'); // the enrollment is deleted, not the account
row('user_create', IAM, 'user,creation');
row('user_update', IAM, 'user,change');
row('user_delete', IAM, 'user,deletion');
row('user_create_provision', IAM, 'user,creation'); // in an external application (SCIM)
row('user_update_provision', IAM, 'user,change');
row('user_delete_provision', IAM, 'user,deletion');
row('user_login_attempt', AUTH, 'info');
row('user_lockout', IAM, 'user,change'); // directory and systems alike
row('user_unlocked', IAM, 'user,change,info');
row('user_suspended', IAM, 'user,change');
row('user_unsuspended', IAM, 'user,change');
row('user_activated', IAM, 'user,change');
row('user_activation_email', IAM, 'user,info');
row('user_password_set', IAM, 'user,change'); // the account leaves pending status
row('user_password_change', IAM, 'user,change'); // directory and systems alike
row('user_password_expired', IAM, 'user,change');
row('user_password_reset_request', IAM, 'user,info');
row('user_password_warning_email', IAM, 'user,info');
row('user_mfa_exclusion_expired', IAM, 'user,change');
row('user_admin_granted', IAM, 'user,change'); // sudo / local admin on devices
row('user_admin_revoked', IAM, 'user,change');
row('user_activation_schedule_create', CONF, 'creation'); // a scheduled job, not yet a change of the account
row('user_activation_schedule_delete', CONF, 'deletion');
row('user_suspension_schedule_create', CONF, 'creation');
row('user_suspension_schedule_delete', CONF, 'deletion');

// Directory: commands and policies.
row('command_create', CONF, 'creation');
row('command_update', CONF, 'change');
row('command_delete', CONF, 'deletion');
row('command_run', PROCESS, 'start');
row('commandresult_delete', CONF, 'deletion');
row('file_create', FILE, 'creation'); // a file uploaded for a command
row('file_update', FILE, 'change');
row('file_delete', FILE, 'deletion');
row('policy_create', CONF, 'creation');
row('policy_update', CONF, 'change');
row('policy_delete', CONF, 'deletion');
row('authnpolicy_create', CONF, 'creation'); // conditional access policies
row('authpolicy_update', CONF, 'change');
row('authnpolicy_delete', CONF, 'deletion');
row('iplist_create', CONF, 'creation');
row('iplist_update', CONF, 'change');
row('iplist_delete', CONF, 'deletion');

// Directory: integrations (identity sources, directories, domains).
row('{activedirectory,idsource,sambadomain,workday,gsuite_directory,o365_directory}_create', CONF, 'creation');
row('{idsource,sambadomain,workday,gsuite_directory,o365_directory}_update', CONF, 'change');
row('{activedirectory,idsource,sambadomain,workday,gsuite_directory,o365_directory}_delete', CONF, 'deletion');
row('integration_activate', CONF, 'change');
row('integration_deactivate', CONF, 'change');
row('integration_domain_add', CONF, 'creation');
row('integration_domain_delete', CONF, 'deletion');
row('integration_default_domain_add', CONF, 'creation');
row('integration_default_domain_update', CONF, 'change');
row('integration_default_domain_delete', CONF, 'deletion');

// Multi-tenant portal (MSP).
row('provider_update', CONF, 'change'); // billing information
row('mtp_download_invoice', FILE, 'access');
row('msp_ticket_create', API, 'creation'); // a ticket opened in the partner's PSA through its API
row('{connectwise,autotask,syncro}_{integration,billing_mapping,company_mapping}_create', CONF, 'creation');
row('{connectwise,autotask,syncro}_{integration,billing_mapping,company_mapping}_update', CONF, 'change');
row('{connectwise,autotask,syncro}_{integration,billing_mapping,company_mapping}_delete', CONF, 'deletion');
row('{connectwise,autotask,syncro}_settings_update', CONF, 'change');

// RADIUS, SSO, LDAP. Real RADIUS events say radius_auth_attempt; the API description says radius_auth.
row('radius_auth', AUTH, 'info');
row('radius_auth_attempt', AUTH, 'info');
row('sso_auth', AUTH, 'info');
row('ldap_bind', AUTH, 'info');
row('ldap_search', IAM, 'info'); // a read of the directory

// Systems (devices).
row('login_attempt', AUTH, 'info');
row('system_fde_key_update', CONF, 'change');
row('system_fde_key_decrypt', CONF, 'access');
row('os_{minor,major}_{upgrade,rollback}', HOST, 'change');
row('remote_session_start', SESSION, 'start');
row('remote_session_join', SESSION, 'start');
row('remote_session_end', SESSION, 'end');
row('remote_session_feedback', SESSION, 'info');
row('google_emm_create', CONF, 'creation'); // Android EMM registration
row('google_emm_patch', CONF, 'change');
row('google_emm_delete', CONF, 'deletion');
row('device_command', HOST, 'change'); // lock, wipe, restart... issued to an Android device

// Password manager: the feature, accounts and sharing (iam), folders and items (configuration), the app.
row('passwordmanager_enable', CONF, 'change');
row('passwordmanager_disable', CONF, 'change');
row('passwordmanager_user_{enable,disable,activate,deactivate,reactivate,re-enable,update}', IAM, 'user,change');
row('passwordmanager_user_signup', IAM, 'user,creation');
row('passwordmanager_user_remove', IAM, 'user,deletion');
row('passwordmanager_user_device_pair', IAM, 'user,change'); // a trusted device added to the account
row('passwordmanager_user_device_unpair', IAM, 'user,change');
row('passwordmanager_extension_pair', IAM, 'user,change');
row('passwordmanager_pincode_update', IAM, 'user,change'); // the app's unlock credential
row('passwordmanager_app_unlock', AUTH, 'info');
row('passwordmanager_extension_unlock', AUTH, 'info');
row('passwordmanager_folder_create', CONF, 'creation');
row('passwordmanager_folder_update', CONF, 'change');
row('passwordmanager_folder_delete', CONF, 'deletion');
row('passwordmanager_folder_member_{add,update,remove}', IAM, 'user,change'); // access to a shared folder
row('passwordmanager_folder_group_{add,update,remove}', IAM, 'group,change');
row('passwordmanager_sharedfolders_policy_user_{add,remove}', IAM, 'user,change');
row('passwordmanager_sharedfolders_policy_group_{add,remove}', IAM, 'group,change');
row('passwordmanager_sharedfolders_policy_update', CONF, 'change');
row('passwordmanager_item_add', CONF, 'creation');
row('passwordmanager_item_update', CONF, 'change');
row('passwordmanager_item_remove', CONF, 'deletion');
row('passwordmanager_item_move', CONF, 'change');
row('passwordmanager_item_{reveal,copy,autofill}', CONF, 'access');
row('passwordmanager_item_history_reveal', CONF, 'access');
row('passwordmanager_item_history_restore', CONF, 'change');
row('passwordmanager_items_export', CONF, 'access'); // every secret read out at once
row('passwordmanager_items_import', CONF, 'creation');
row('passwordmanager_force_sync', CONF, 'access'); // the vault pulled to the device
row('passwordmanager_folder_force_sync', CONF, 'access');
row('passwordmanager_backup_{enable,disable}', CONF, 'change');
row('passwordmanager_backup_create', CONF, 'creation');
row('passwordmanager_backup_key_create', CONF, 'creation');
row('passwordmanager_backup_key_regenerate', CONF, 'change');
row('passwordmanager_backup_key_delete', CONF, 'deletion');
row('passwordmanager_backup_request', CONF, 'creation');
row('passwordmanager_backup_request_{approve,reject,cancel,restore}', CONF, 'change');
row('passwordmanager_local_backup_create', FILE, 'creation');
row('passwordmanager_local_backup_restore', FILE, 'access');
row('passwordmanager_local_backup_path_update', CONF, 'change');
row('passwordmanager_paranoid_mode_{enable,disable}', CONF, 'change');
row('passwordmanager_extension_settings_update', CONF, 'change');
row('passwordmanager_item_settings_update', CONF, 'change');
row('passwordmanager_extension_site_exclusion', CONF, 'change');
row('passwordmanager_app_update', PACKAGE, 'change'); // the desktop app upgraded
row('passwordmanager_mini_launch', PROCESS, 'start');

// Password vault: as the password manager; sharing with a user or group is an access change (iam).
row('passwordvault_enable', CONF, 'change');
row('passwordvault_disable', CONF, 'change');
row('passwordvault_user_{enable,disable}', IAM, 'user,change');
row('passwordvault_{credential,website}_add', CONF, 'creation');
row('passwordvault_{credential,website}_update', CONF, 'change');
row('passwordvault_{credential,website}_delete', CONF, 'deletion');
row('passwordvault_{credential,website}_archive', CONF, 'change');
row('passwordvault_{credential,website}_duplicate', CONF, 'creation');
row('passwordvault_{credential,website}_shareuser', IAM, 'user,change');
row('passwordvault_{credential,website}_shareusergroup', IAM, 'group,change');
row('passwordvault_{credential,website}_copy', CONF, 'access');
row('passwordvault_credential_{viewsecret,viewdetail,reveal,autofill,history_reveal}', CONF, 'access');
row('passwordvault_website_{viewdetails,connect}', CONF, 'access');
row('passwordvault_{credential_export,websites_export}', CONF, 'access');
row('passwordvault_credential_import', CONF, 'creation');
row('passwordvault_website_linkcredential', CONF, 'change');
row('passwordvault_{sharedfolder,personalfolder}_create', CONF, 'creation');
row('passwordvault_{sharedfolder,personalfolder}_delete', CONF, 'deletion');
row('passwordvault_{sharedfolder,personalfolder}_user_{add,update,remove}', IAM, 'user,change');
row('passwordvault_{sharedfolder,personalfolder}_group_add', IAM, 'group,change');
row('passwordvault_{sharedfolder,personalfolder}_{credential,website}_{add,update,remove}', CONF, 'change');

// Software on devices (detected), and software requested from the admin portal.
row('software_add', PACKAGE, 'installation');
row('software_change', PACKAGE, 'change');
row('software_remove', PACKAGE, 'deletion');
row('software_add_request', CONF, 'creation');
row('software_change_request', CONF, 'change');
row('software_remove_request', CONF, 'deletion');

// MDM.
row('mdm_command_result', HOST, 'info');
row('device_enrollment', CONF, 'creation'); // the device enters management, as system_create
row('configuration_file_download', CONF, 'access');

// Notification channels, object storage.
row('notification_channel_created', CONF, 'creation');
row('notification_channel_updated', CONF, 'change');
row('notification_channel_deleted', CONF, 'deletion');
row('object_storage_create', FILE, 'creation');
row('object_storage_upload_validation_result', FILE, 'info');
row('object_storage_get_download_url_request', FILE, 'access');
row('object_storage_delete', FILE, 'deletion');

// Alerts: an alert raised by JumpCloud is an alert; its updates and the rules behind it are not.
row('alert_created', IDS, 'info', 'alert');
row('alert_updated', IDS, 'info');
row('alert_status_updated', IDS, 'info');
row('rule_created', CONF, 'creation');
row('rule_modified', CONF, 'change');
row('rule_deleted', CONF, 'deletion');

// SaaS management: discoveries are information; accounts in SaaS applications are accounts.
row('saas_management_enable', CONF, 'change');
row('saas_management_disable', CONF, 'change');
row('saas_management_settings_update', CONF, 'change');
row('saas_management_application_discover', CONF, 'info');
row('saas_management_tenant_discover', CONF, 'info');
row('saas_management_event_application_review', CONF, 'change');
row('saas_management_application_{update,access_restriction_update,license_update}', CONF, 'change');
row('saas_management_application_delete', CONF, 'deletion');
row('saas_management_connector_create', CONF, 'creation');
row('saas_management_connector_update', CONF, 'change');
row('saas_management_connector_delete', CONF, 'deletion');
row('saas_management_account_discover', IAM, 'user,info');
row('saas_management_account_user_assign', IAM, 'user,change');
row('saas_management_account_delete', IAM, 'user,deletion');
row('saas_management_login_event', AUTH, 'info');

// Access management: requests for access and their approval (iam), workflows (configuration).
row('access_management_access_request', IAM, 'info');
row('access_management_access_request_approval', IAM, 'change'); // approved or denied
row('access_management_association_change', IAM, 'change');
row('access_management_approval_flow_create', CONF, 'creation');
row('access_management_approval_flow_update', CONF, 'change');
row('access_management_approval_flow_delete', CONF, 'deletion');
row('access_management_access_request_settings_update', CONF, 'change');

// Reports: running or exporting one reads the organization's data; a scheduled run's type says its outcome.
row('report_run', DATABASE, 'access');
row('report_export', DATABASE, 'access');
row('{report,custom_report,scheduled_report}_create', CONF, 'creation');
row('{report,custom_report,scheduled_report}_update', CONF, 'change');
row('{report,custom_report,scheduled_report}_delete', CONF, 'deletion');
row('scheduled_report_run_success', DATABASE, 'access', 'event', 'success');
row('scheduled_report_run_failed', DATABASE, 'access', 'event', 'failure');

// Asset management.
row('asset_management_enable', CONF, 'change');
row('asset_management_disable', CONF, 'change');
row('asset_management_general_settings_update', CONF, 'change');
row('asset_management_{field_setting,asset}_create', CONF, 'creation');
row('asset_management_{field_setting,asset}_update', CONF, 'change');
row('asset_management_{field_setting,asset}_delete', CONF, 'deletion');

// Generative AI: the admin assistant's chats (API calls to it), the AI gateway's sessions, MCP servers.
row('genai_ai_assistant_chat_created', API, 'creation');
row('genai_ai_assistant_chat_updated', API, 'change');
row('genai_ai_assistant_chat_deleted', API, 'deletion');
row('genai_ai_assistant_chat_message_sent', API, 'info');
row('aigw_session_opened', SESSION, 'start');
row('aigw_session_activity', SESSION, 'info');
row('aigw_session_closed', SESSION, 'end');
row('{server,redirect_uri}_create', CONF, 'creation');
row('{server,redirect_uri}_update', CONF, 'change');
row('{server,redirect_uri}_delete', CONF, 'deletion');

// Generic: access risk (a detection, like an alert) and certificates.
row('risk_event_created', IDS, 'info', 'alert');
row('risk_event_resolved', IDS, 'info');
row('risk_events_bulk_resolved', IDS, 'info');
row('ca_created', CONF, 'creation');
row('cert_issued_{manual,self_service,scep}', CONF, 'creation');
row('cert_revoked', CONF, 'change');

/** What a `resource` of a given `type` describes: its fields go to user.target.*, group.* or host.*. */
export class Target {
  type: string;
  object: string;
  constructor(type: string, object: string) {
    this.type = type;
    this.object = object;
  }
}
export const TARGETS: Target[] = [];
function target(type: string, object: string): void { TARGETS.push(new Target(type, object)); }

target('user', 'user.target');
target('systemuser', 'user.target');
target('admin', 'user.target');
target('user_group', 'group');
target('system_group', 'group');
target('system', 'host');
