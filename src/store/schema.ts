// Row types of every table, shared by both dialects. Booleans are stored as
// 0/1 integers and times as epoch milliseconds so that one set of queries
// works on SQLite and PostgreSQL alike.

import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Flag = 0 | 1;
type EpochMs = number;

export interface UsersTable {
  id: string;
  login: string;
  /** NFKC + lower-case login: uniqueness and look-up ignore case. */
  login_key: string;
  /**
   * What the login reads as (loginSkeleton, src/logins.ts), unique: no login
   * may look like another. Null for a user who already looked like an older
   * one when the column was added (migration 005) or the rule got stronger
   * (migration 014).
   */
  login_skeleton: string | null;
  email: string;
  display_name: string;
  is_remote: Flag;
  is_superuser: Flag;
  is_revoked: Flag;
  /** argon2id PHC string; null for remote users and users without a password. */
  password_hash: string | null;
  /** Password checks begun since the last success; see claimAttempt in users.ts. */
  failed_attempts: ColumnType<number, number | undefined, number>;
  /** When failed logins revoked the user; null when not revoked, or revoked by an administrator (migration 006). */
  locked_at: EpochMs | null;
  /** When the user was last reinstated (administrator, reset token, lockout lifted); account expiry counts idle time from it too (migration 011). */
  reinstated_at: EpochMs | null;
  last_login: EpochMs | null;
  created_at: EpochMs;
  /** The directory a remote user is bound to; null until its first successful directory login (migration 013). */
  directory_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The DN of the directory entry the remote user is bound to (migration 013). */
  directory_dn: ColumnType<string | null, string | null | undefined, string | null>;
  /** The entry's stable id as `<attribute>:<value>` (entryUUID, objectGUID, nsUniqueId), when the directory gives one (migration 013). */
  directory_entry_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** What revoked the user: 'lockout', 'administrator' or 'expiry'; null when not revoked (migration 019). */
  revoked_by: ColumnType<RevokedBy | null, RevokedBy | null | undefined, RevokedBy | null>;
  /** When the password was last set: the password-age clock; null for users without one (migration 019). */
  password_changed_at: ColumnType<EpochMs | null, EpochMs | null | undefined, EpochMs | null>;
  /** The user's login tokens reach only the password change until it changes its password (migration 019). */
  password_change_required: ColumnType<Flag, Flag | undefined, Flag>;
}

export type RevokedBy = 'lockout' | 'administrator' | 'expiry';

export interface RolesTable {
  id: Generated<number>;
  display_name: string;
  description: string;
  /** JSON array of {object_type, action, instance}. */
  permissions: string;
}

export interface UserRolesTable {
  user_id: string;
  role_id: number;
}

export interface LoginTokensTable {
  /** SHA-256 of the token, hex; the token itself is never stored. */
  token_hash: string;
  /** Public id (a random UUID, migration 010): names the token in listings and revocations without being it. */
  id: string;
  user_id: string;
  created_at: EpochMs;
  /** null: never expires (only when token-maximum-lifetime is 0). */
  expires_at: EpochMs | null;
  revoked_at: EpochMs | null;
  /** When the token was last used, written at most about once a minute (migration 010); its creation at first. */
  last_active: EpochMs;
  label: string | null;
  description: string | null;
  client: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: EpochMs;
  type: string;
  actor_id: string | null;
  actor_login: string | null;
  /** The allowlisted certname when the actor is api_user acting through a client certificate (migration 015). */
  actor_certname: string | null;
  subject_id: string | null;
  subject_login: string | null;
  source_address: string | null;
  /** JSON object with event-specific facts; never secrets. */
  details: string;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  /** JWK of the private key. Whoever reads the database can already set password hashes. */
  private_jwk: string;
  public_jwk: string;
  created_at: EpochMs;
  /** Set when the key may no longer sign; tokens it signed are superseded then. */
  retired_at: EpochMs | null;
}

export interface ResetTokensTable {
  jti: string;
  user_id: string;
  kid: string;
  issued_at: EpochMs;
  expires_at: EpochMs;
  /** Id of the user (or null: the CLI) who issued it. */
  issued_by: string | null;
  spent_at: EpochMs | null;
  /** Set when a newer token for the same user was issued. */
  superseded_at: EpochMs | null;
}

export interface DecoyAttemptsTable {
  id: number;
  attempts: number;
}

/** Earlier passwords of a user (migration 007); the current one is users.password_hash. */
export interface PasswordHistoryTable {
  /** Orders a user's rows: the highest is the most recently replaced password. */
  id: Generated<number>;
  user_id: string;
  /** argon2id PHC string of a password the user had before. */
  password_hash: string;
  /** When it was replaced. */
  created_at: EpochMs;
}

/** Values set through the API that every instance must see (migration 008), one row per name. */
export interface SettingsTable {
  name: string;
  value: string;
  updated_at: EpochMs;
}

/** A directory service connection (migration 012): PE's fields as JSON, the bind password apart. */
export interface DirectoriesTable {
  id: string;
  /** JSON of the settings without the bind password (src/directory/settings.ts). */
  settings: string;
  /** The lookup account's password: write-only through the API, read only to bind. */
  bind_password: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** A directory group imported by name (migration 012). */
export interface GroupsTable {
  id: string;
  /** The group's lookup value in the directory (group_lookup_attr), as imported. */
  login: string;
  /** Lower-case login: directory names ignore case. */
  login_key: string;
  display_name: string;
  directory_id: string | null;
  created_at: EpochMs;
}

export interface GroupRolesTable {
  group_id: string;
  role_id: number;
}

/** The imported groups a remote user was in at their last login. */
export interface UserGroupsTable {
  user_id: string;
  group_id: string;
}

/** The rate limits' counts on PostgreSQL (migration 017, unlogged): one fixed window per limited key. */
export interface RateLimitsTable {
  /** A hash of the limit's key (route, kind, address or account): no login is stored. */
  key: string;
  window_ends_at: EpochMs;
  hits: number;
}

export interface Database {
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
  login_tokens: LoginTokensTable;
  audit_events: AuditEventsTable;
  signing_keys: SigningKeysTable;
  reset_tokens: ResetTokensTable;
  decoy_attempts: DecoyAttemptsTable;
  password_history: PasswordHistoryTable;
  settings: SettingsTable;
  directories: DirectoriesTable;
  groups: GroupsTable;
  group_roles: GroupRolesTable;
  user_groups: UserGroupsTable;
  rate_limits: RateLimitsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;
export type LoginTokenRow = Selectable<LoginTokensTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type ResetTokenRow = Selectable<ResetTokensTable>;
export type GroupRow = Selectable<GroupsTable>;
