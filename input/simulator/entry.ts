// What the catalog (catalog.ts) declares of every event type: its service, the family of its shape, its
// frequencies and where the API's description lists it. Types only, in a file of their own: the renderers
// (render.ts, render/) take an entry and the catalog calls the renderers, so neither imports the other back
// (npm run check:deps refuses import circles).

export type Family =
  | 'portal_auth' // admin/user portal logins
  | 'object_change' // an admin creates, updates or deletes a directory object (resource, changes)
  | 'association' // an object bound to / unbound from another (association.op, connection, attributes)
  | 'account' // a user's or admin's account state: lockout, password, activation, suspension, notices
  | 'mfa_enrollment' // TOTP enrollment started, finished, deleted, disabled
  | 'command' // commands and their files and results
  | 'sso_auth'
  | 'radius_auth'
  | 'ldap'
  | 'system_auth' // login to a device (the agent reports it)
  | 'system_event' // device events: FDE keys, OS upgrades, remote sessions, lockouts on the device, EMM
  | 'password_manager'
  | 'password_vault'
  | 'software'
  | 'mdm'
  | 'notification_channel'
  | 'object_storage'
  | 'alert'
  | 'saas_management'
  | 'access_management'
  | 'report'
  | 'asset'
  | 'ai' // genai chats, AI gateway sessions, MCP servers
  | 'risk' // access risk events
  | 'certificate';

export interface CatalogEntry {
  readonly type: string;
  /** The DI service whose stream carries it (a value of the query's `service`). */
  readonly service: string;
  readonly family: Family;
  /** Relative frequency on org streams of its service; 0: never generated there (sampleEvent, scenarios still can). */
  readonly weight: number;
  /** Relative frequency on a provider's Multi-Tenant-Portal stream (x-provider-id); 0: not there. */
  readonly providerWeight: number;
  /** The first "Event Types" section listing it ("Directory - Object Events", …; see REAL_DATA_TYPES otherwise). */
  readonly section: string;
  /** Every section listing it under this service (admin_create: User and Admin Events, MTP/MSP Events). */
  readonly sections: readonly string[];
}
