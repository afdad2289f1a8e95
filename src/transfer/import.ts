// Importing a portable document (CONTRACT §16): read from a running PE or
// from a file, planned against this database and applied in one
// transaction. The plan is made inside that transaction, on what the
// database holds then; a conflict (a role id or login held by another
// object, a permission this service does not know) stops the import before
// anything is written and names it. What is already equal is left alone, so
// a second run changes nothing and issues no new reset link to a user who
// set a password (or still holds a working one). A dry run plans and
// reports, and writes nothing.

import { partyOf, type AuditEvent, type ImportedObject } from '../audit/audit.js';
import { ADMINISTRATORS_ROLE_ID, PE_PERMISSION_TYPES, findAction, installPermissionTypes, permissionTypes, type PermissionType } from '../catalogue/catalogue.js';
import type { Config } from '../config/config.js';
import { listDirectories, writeImportedDirectory } from '../directory/directories.js';
import { ServiceError } from '../errors.js';
import { groupLoginKey } from '../groups/groups.js';
import { loginKey, loginSkeleton } from '../logins.js';
import { signResetToken } from '../password-reset/reset-token.js';
import type { SigningKeyRing } from '../password-reset/signing-keys.js';
import { permissionKey, validPermissions } from '../permissions/permissions.js';
import type { DirectorySettings, Permission } from '../shapes.js';
import * as events from '../store/events.js';
import * as groups from '../store/groups.js';
import * as resetTokens from '../store/reset-tokens.js';
import * as roles from '../store/roles.js';
import * as settings from '../store/settings.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import * as users from '../store/users.js';
import { BOOTSTRAP_ADMIN_LOGIN } from '../users/users.js';
import type { PortableDocument, PortableGroup, PortableRole, PortableUser } from './document.js';

/** PE's built-in users: matched by login, never written by an import. */
export const BUILT_IN_LOGINS = [BOOTSTRAP_ADMIN_LOGIN, 'api_user'] as const;

export interface ImportDeps {
  db: Db;
  keys: SigningKeyRing;
  config: Pick<Config, 'passwordResetExpirationHours'>;
}

export interface ImportOptions {
  /** Plan and report only. */
  dryRun?: boolean;
  /** Permission types this service does not know become operator types (returned in the report for the permission-types file). */
  allowUnknownTypes?: boolean;
  /** Whether reset links can be handed to the operator (`--reset-links FILE`): without, an import that would issue any is refused. */
  deliversResetLinks?: boolean;
  /** The reset page's link for a token. */
  resetLink: (token: string) => string;
  /** Told how far a long import has got. */
  progress?: (message: string) => void;
}

/** An object type the source's roles use that this service does not know, as the permission-types file declares one. */
export interface UnknownType {
  object_type: string;
  actions: string[];
  has_instances: boolean;
}

export interface ResetLink {
  login: string;
  email: string;
  reset_url: string;
}

export interface ImportReport {
  source: string;
  /** What the import writes (or, in a dry run, would write), one line each. */
  changes: string[];
  /** How many objects were already equal. */
  unchanged: number;
  /** Built-in users matched by login and left as they are. */
  builtIn: string[];
  unknownTypes: UnknownType[];
  /** The local users given a reset link (none in a dry run, whose changes name them). */
  resetLinks: ResetLink[];
  /** Directories created without a bind password, which the operator sets afterwards. */
  directoriesCreated: number;
  applied: boolean;
}

/** An import refused before anything was written: each reason named. */
export class ImportRefused extends ServiceError {
  constructor(readonly reasons: string[]) {
    super('schema-violation', `The import was refused and nothing was written:\n  ${reasons.slice(0, 50).join('\n  ')}${reasons.length > 50 ? `\n  … and ${reasons.length - 50} more` : ''}`, { reasons });
    this.name = 'ImportRefused';
  }
}

/** One write the plan makes, with the line that reports it. */
interface Step {
  line: string;
  apply(trx: Executor, now: number): Promise<void>;
  event?: AuditEvent;
}

const sameIds = (a: readonly (number | string)[], b: readonly (number | string)[]) => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
const samePermissions = (a: readonly Permission[], b: readonly Permission[]) => sameIds([...new Set(a.map(permissionKey))], [...new Set(b.map(permissionKey))]);
const PROGRESS_EVERY = 500;
const EVENT_BATCH = 500;

/**
 * Imports the document: plans in a transaction, refuses with every conflict
 * named, or applies the plan (unless a dry run) and returns the report. The
 * reset links are valid once this returns; the caller writes them out.
 */
export async function importDocument(deps: ImportDeps, document: PortableDocument, options: ImportOptions): Promise<ImportReport> {
  const progress = options.progress ?? (() => {});
  const operatorTypes = permissionTypes().slice(PE_PERMISSION_TYPES.length);
  // The signing key is read before the transaction (SQLite's one connection is the transaction's until it ends).
  if (!options.dryRun) await deps.keys.ensureKey();
  const key = options.dryRun ? undefined : await deps.keys.signingKey({ fresh: true });
  try {
    return await inTransaction(deps.db, async (trx) => {
      const plan = await planImport(trx, document, options);
      if (options.dryRun) return plan.report;
      const now = Date.now();
      const total = plan.steps.length;
      let done = 0;
      for (const step of plan.steps) {
        await step.apply(trx, now);
        if (++done % PROGRESS_EVERY === 0) progress(`imported ${done} of ${total} changes`);
      }
      const lifetimeSeconds = deps.config.passwordResetExpirationHours * 3600;
      const issued: AuditEvent[] = [];
      for (const user of plan.resetLinksFor) {
        const { token, claims } = await signResetToken(key!, user.id, lifetimeSeconds, now);
        // Only expired links can be left to supersede: a user holding a live one gets none.
        const superseded = await resetTokens.cancelLiveOf(trx, user.id, now);
        await resetTokens.insert(trx, { jti: claims.jti, user_id: user.id, kid: claims.kid, issued_at: claims.iat * 1000, expires_at: claims.exp * 1000, issued_by: null });
        issued.push({ type: 'reset-token-issued', subject: partyOf(user), sourceAddress: 'cli', details: { jti: claims.jti, expires_at: new Date(claims.exp * 1000).toISOString(), superseded } });
        plan.report.resetLinks.push({ login: user.login, email: user.email, reset_url: options.resetLink(token) });
      }
      const recorded = [...plan.steps.flatMap((step) => (step.event ? [step.event] : [])), ...issued];
      for (let at = 0; at < recorded.length; at += EVENT_BATCH) await events.record(trx, recorded.slice(at, at + EVENT_BATCH), now);
      if (total >= PROGRESS_EVERY) progress(`imported ${total} of ${total} changes`);
      plan.report.applied = true;
      return plan.report;
    });
  } finally {
    // The types an import adds are the permission-types file's from the next start; a dry run or a failure adds none.
    installPermissionTypes(operatorTypes);
  }
}

interface Plan {
  steps: Step[];
  resetLinksFor: { id: string; login: string; email: string }[];
  report: ImportReport;
}

async function planImport(trx: Executor, document: PortableDocument, options: ImportOptions): Promise<Plan> {
  const source = document.source;
  const refusals: string[] = [];
  const steps: Step[] = [];
  const report: ImportReport = { source, changes: [], unchanged: 0, builtIn: [], unknownTypes: [], resetLinks: [], directoriesCreated: 0, applied: false };
  const imported = (object: ImportedObject, change: 'created' | 'updated', extra: Omit<Extract<AuditEvent, { type: 'imported' }>['details'], 'object' | 'change' | 'source'>, subject?: { id: string; login: string }): AuditEvent => ({
    type: 'imported',
    ...(subject ? { subject: partyOf(subject) } : {}),
    sourceAddress: 'cli',
    details: { object, change, source, ...extra },
  });
  const add = (step: Step) => {
    steps.push(step);
    report.changes.push(step.line);
  };

  // Permission types first: a role's permissions are checked against the catalogue with them.
  report.unknownTypes = unknownTypesOf(document.roles, refusals);
  if (report.unknownTypes.length > 0) {
    if (options.allowUnknownTypes) installPermissionTypes([...permissionTypes().slice(PE_PERMISSION_TYPES.length), ...report.unknownTypes.map(asOperatorType)]);
    else refusals.push(...report.unknownTypes.map((type) => `permission type ${type.object_type} (${type.actions.join(', ')}) is not one this service knows: add it to permission-types, or import with --allow-unknown-types`));
  }

  // Roles: kept at their ids; an id held here by a role of another name is a conflict.
  const targetRoles = new Map((await roles.list(trx)).map((role) => [role.id, role]));
  const sourceRoleIds = new Set<number>();
  const namesInDocument = new Map<string, number>();
  for (const role of document.roles) {
    sourceRoleIds.add(role.id);
    const other = namesInDocument.get(role.display_name);
    if (other !== undefined) refusals.push(`roles ${other} and ${role.id} of the source are both named "${role.display_name}"`);
    namesInDocument.set(role.display_name, role.id);
    const permissions = checkedPermissions(role, refusals);
    if (!permissions) continue;
    const held = targetRoles.get(role.id);
    if (held && held.display_name !== role.display_name) {
      refusals.push(`role id ${role.id} is taken here by "${held.display_name}"; the source's role ${role.id} is "${role.display_name}"`);
      continue;
    }
    if (held) {
      // Administrators holds every permission there is, and cannot be changed (CONTRACT §10).
      if (role.id === ADMINISTRATORS_ROLE_ID) {
        report.unchanged++;
        continue;
      }
      const fields = [...(held.description !== role.description ? ['description'] : []), ...(samePermissions(held.permissions, permissions) ? [] : ['permissions'])];
      if (fields.length === 0) {
        report.unchanged++;
        continue;
      }
      add({
        line: `update role ${role.id} "${role.display_name}": ${fields.join(', ')}`,
        apply: (db) => roles.update(db, role.id, { description: role.description, permissions }),
        event: imported('role', 'updated', { role_id: role.id, display_name: role.display_name, fields }),
      });
      continue;
    }
    const sameName = [...targetRoles.values()].find((candidate) => candidate.display_name === role.display_name);
    if (sameName) {
      refusals.push(`the source's role ${role.id} "${role.display_name}" has the name of role ${sameName.id} here`);
      continue;
    }
    add({
      line: `create role ${role.id} "${role.display_name}" with ${permissions.length} permissions`,
      apply: (db) => roles.insertWithId(db, { id: role.id, display_name: role.display_name, description: role.description, permissions }),
      event: imported('role', 'created', { role_id: role.id, display_name: role.display_name }),
    });
  }
  const roleExists = (id: number) => sourceRoleIds.has(id) || targetRoles.has(id);

  // Directories: kept at their ids; the bind password is the operator's to set.
  const targetDirectories = new Map((await listDirectories(trx, null)).map((directory) => [directory.id, directory]));
  for (const directory of document.directories) {
    const held = targetDirectories.get(directory.id);
    const fields = held ? changedSettings(held, directory) : [];
    if (held && fields.length === 0) {
      report.unchanged++;
      continue;
    }
    if (!held) report.directoriesCreated++;
    add({
      line: held ? `update directory ${directory.id} (${directory.hostname}): ${fields.join(', ')}` : `create directory ${directory.id} (${directory.hostname}); set its bind password afterwards`,
      apply: (db, now) => writeImportedDirectory(db, directory, now),
      event: imported('directory', held ? 'updated' : 'created', { directory_id: directory.id, hostname: directory.hostname, ...(held ? { fields } : {}) }),
    });
  }
  const directoryExists = (id: string) => targetDirectories.has(id) || document.directories.some((directory) => directory.id === id);

  // Groups, before users' memberships of them.
  const groupIds = new Set(document.groups.map((group) => group.id));
  const targetGroups = new Map((await groups.list(trx)).map((group) => [group.id, group]));
  const targetGroupRoles = await groups.roleIdsOf(trx, [...targetGroups.keys()]);
  const groupSteps: Step[] = [];
  const groupKeysInDocument = new Map<string, string>();
  for (const group of document.groups) planGroup(group);

  function planGroup(group: PortableGroup) {
    const key = groupLoginKey(group.login);
    const twin = groupKeysInDocument.get(key);
    if (twin !== undefined) return void refusals.push(`groups "${twin}" and "${group.login}" of the source have the same login`);
    groupKeysInDocument.set(key, group.login);
    const clash = [...targetGroups.values()].find((candidate) => candidate.login_key === key && candidate.id !== group.id);
    if (clash) return void refusals.push(`group "${group.login}" is imported here with another id (${clash.id}; the source's is ${group.id})`);
    const missingRoles = group.role_ids.filter((id) => !roleExists(id));
    if (missingRoles.length > 0) return void refusals.push(`group "${group.login}" holds roles ${missingRoles.join(', ')}, which neither the source nor this service has`);
    if (group.identity_provider_id !== null && !directoryExists(group.identity_provider_id)) {
      return void refusals.push(`group "${group.login}" comes from directory ${group.identity_provider_id}, which neither the source nor this service has`);
    }
    const held = targetGroups.get(group.id);
    if (!held) {
      groupSteps.push({
        line: `create group "${group.login}" with roles ${group.role_ids.join(', ') || 'none'}`,
        apply: async (db, now) => {
          await groups.insert(db, { id: group.id, login: group.login, login_key: key, display_name: group.display_name, directory_id: group.identity_provider_id, created_at: now });
          await groups.addRoles(db, group.id, group.role_ids);
        },
        event: imported('group', 'created', { group_id: group.id, login: group.login }),
      });
      return;
    }
    const heldRoles = targetGroupRoles.get(group.id) ?? [];
    const fields = [
      ...(held.login !== group.login ? ['login'] : []),
      ...(held.display_name !== group.display_name ? ['display_name'] : []),
      ...(held.directory_id !== group.identity_provider_id ? ['identity_provider_id'] : []),
      ...(sameIds(heldRoles, group.role_ids) ? [] : ['role_ids']),
    ];
    if (fields.length === 0) return void report.unchanged++;
    if (fields.some((field) => field !== 'role_ids')) {
      return void refusals.push(`group ${group.id} is "${held.login}" here and "${group.login}" (${fields.join(', ')} differ) in the source: delete one of them first`);
    }
    groupSteps.push({
      line: `update group "${group.login}": role_ids`,
      apply: async (db) => {
        await groups.removeRoles(db, group.id, heldRoles.filter((id) => !group.role_ids.includes(id)));
        await groups.addRoles(db, group.id, group.role_ids.filter((id) => !heldRoles.includes(id)));
      },
      event: imported('group', 'updated', { group_id: group.id, login: group.login, fields }),
    });
  }

  // Users: kept at their ids; the built-in ones matched by login and left alone.
  const resetLinksFor: Plan['resetLinksFor'] = [];
  const builtInKeys = new Set(BUILT_IN_LOGINS.map(loginKey));
  const incoming = document.users.filter((user) => {
    if (!builtInKeys.has(loginKey(user.login))) return true;
    report.builtIn.push(user.login);
    return false;
  });
  // Every user here, read once (an import of many users would otherwise exceed a statement's parameters).
  const everyone = await users.list(trx);
  const heldById = new Map(everyone.map((user) => [user.id, user]));
  const heldByKey = new Map(everyone.map((user) => [user.login_key, user.id]));
  const matched = incoming.filter((user) => heldById.has(user.id)).map((user) => user.id);
  const heldRoles = await inChunks(matched, (ids) => users.roleIdsOf(trx, ids));
  const heldGroups = await inChunks(matched, (ids) => groups.groupIdsOf(trx, ids));
  const keysInDocument = new Map<string, string>();
  const skeletonsInDocument = new Map<string, string>();
  const userSteps: Step[] = [];
  const membershipSteps: Step[] = [];
  const now = Date.now();
  for (const user of incoming) await planUser(user);

  async function planUser(user: PortableUser) {
    const key = loginKey(user.login);
    const skeleton = loginSkeleton(user.login);
    const twin = keysInDocument.get(key) ?? skeletonsInDocument.get(skeleton);
    if (twin !== undefined) return void refusals.push(`users "${twin}" and "${user.login}" of the source have logins that read alike`);
    keysInDocument.set(key, user.login);
    skeletonsInDocument.set(skeleton, user.login);
    const missingRoles = user.role_ids.filter((id) => !roleExists(id));
    if (missingRoles.length > 0) return void refusals.push(`user "${user.login}" holds roles ${missingRoles.join(', ')}, which neither the source nor this service has`);
    const wantedGroups = user.is_remote ? user.group_ids.filter((id) => groupIds.has(id) || targetGroups.has(id)) : [];
    const holder = heldByKey.get(key);
    if (holder !== undefined && holder !== user.id) return void refusals.push(`login "${user.login}" is taken here by another user (${holder}; the source's is ${user.id})`);
    const held = heldById.get(user.id);
    if ((!held || held.login_key !== key) && (await users.skeletonTaken(trx, skeleton, user.id))) {
      return void refusals.push(`login "${user.login}" reads like the login of another user here`);
    }
    const subject = { id: user.id, login: user.login };
    if (!held) {
      userSteps.push({
        line: `create ${user.is_remote ? 'remote' : 'local'} user "${user.login}"${user.is_revoked ? ' (revoked)' : ''}${user.role_ids.length > 0 ? ` with roles ${user.role_ids.join(', ')}` : ''}`,
        apply: async (db, at) => {
          await users.insertImported(db, {
            id: user.id,
            login: user.login,
            login_key: key,
            login_skeleton: skeleton,
            email: user.email,
            display_name: user.display_name,
            is_remote: user.is_remote,
            // A superuser here is a built-in user; an imported one holds Administrators if the source gave it.
            is_superuser: false,
            is_revoked: user.is_revoked,
            created_at: at,
          });
          await users.addRoles(db, user.id, [...new Set(user.role_ids)]);
        },
        event: imported('user', 'created', {}, subject),
      });
      if (wantedGroups.length > 0) membershipSteps.push({ line: `put "${user.login}" in groups ${wantedGroups.join(', ')}`, apply: (db) => groups.replaceMemberships(db, user.id, wantedGroups) });
      if (!user.is_remote && !user.is_revoked) resetLinksFor.push({ id: user.id, login: user.login, email: user.email });
      return;
    }
    if (held.is_remote !== user.is_remote) {
      return void refusals.push(`user "${user.login}" (${user.id}) is ${held.is_remote ? 'remote' : 'local'} here and ${user.is_remote ? 'remote' : 'local'} in the source`);
    }
    const roleIds = heldRoles.get(user.id) ?? [];
    const groupIdsHeld = heldGroups.get(user.id) ?? [];
    const fields = [
      ...(held.login !== user.login ? ['login'] : []),
      ...(held.email !== user.email ? ['email'] : []),
      ...(held.display_name !== user.display_name ? ['display_name'] : []),
      ...(held.is_revoked !== user.is_revoked ? ['is_revoked'] : []),
      ...(sameIds(roleIds, [...new Set(user.role_ids)]) ? [] : ['role_ids']),
      ...(user.is_remote && !sameIds(groupIdsHeld, wantedGroups) ? ['group_ids'] : []),
    ];
    // A local user who has set no password, and holds no link that still works, gets one (again).
    const needsLink = !held.is_remote && !user.is_revoked && held.password_hash === null && !(await resetTokens.hasLiveToken(trx, user.id, now));
    if (needsLink) resetLinksFor.push({ id: user.id, login: user.login, email: user.email });
    if (fields.length === 0) {
      if (needsLink) report.changes.push(`issue a new reset link to "${user.login}", who has set no password and holds no working link`);
      else report.unchanged++;
      return;
    }
    userSteps.push({
      line: `update user "${user.login}": ${fields.join(', ')}${needsLink ? '; issue a new reset link' : ''}`,
      apply: async (db, at) => {
        const renamed = held.login !== user.login;
        await users.updateProfile(db, user.id, {
          email: user.email,
          display_name: user.display_name,
          ...(renamed ? { login: user.login, login_key: key, login_skeleton: skeleton } : {}),
        });
        if (held.is_revoked !== user.is_revoked) await users.setRevoked(db, user.id, user.is_revoked, at);
        const wanted = [...new Set(user.role_ids)];
        await users.removeRoles(db, user.id, roleIds.filter((id) => !wanted.includes(id)));
        await users.addRoles(db, user.id, wanted.filter((id) => !roleIds.includes(id)));
        if (fields.includes('group_ids')) await groups.replaceMemberships(db, user.id, wantedGroups);
      },
      event: imported('user', 'updated', { fields }, subject),
    });
  }
  for (const step of [...userSteps, ...groupSteps, ...membershipSteps]) add(step);

  // The disclaimer: set when the source has one (a source without one leaves this one's alone).
  if (document.disclaimer !== null) {
    const current = await settings.read(trx, 'disclaimer');
    if (current === document.disclaimer) report.unchanged++;
    else {
      const text = document.disclaimer;
      add({ line: current === undefined ? 'set the disclaimer' : 'replace the disclaimer', apply: (db, at) => settings.write(db, 'disclaimer', text, at), event: imported('disclaimer', current === undefined ? 'created' : 'updated', {}) });
    }
  }

  if (refusals.length > 0) throw new ImportRefused(refusals);
  if (resetLinksFor.length > 0 && !options.deliversResetLinks && !options.dryRun) {
    throw new ImportRefused([`${resetLinksFor.length} local users get a reset link (PE gives out no passwords): name the file for them with --reset-links FILE`]);
  }
  return { steps, resetLinksFor, report };
}

/**
 * The object types the roles use that the catalogue does not have. An
 * action this service does not know of a type it knows cannot be added
 * (PE's types are PE's): that is a refusal.
 */
function unknownTypesOf(sourceRoles: readonly PortableRole[], refusals: string[]): UnknownType[] {
  const unknown = new Map<string, UnknownType>();
  const known = new Set(permissionTypes().map((type) => type.object_type));
  for (const role of sourceRoles) {
    for (const permission of role.permissions) {
      if (known.has(permission.object_type)) {
        if (!findAction(permission.object_type, permission.action)) refusals.push(`role ${role.id} "${role.display_name}" holds ${permission.object_type}:${permission.action}, an action this service does not know`);
        continue;
      }
      const type = unknown.get(permission.object_type) ?? { object_type: permission.object_type, actions: [], has_instances: false };
      if (!type.actions.includes(permission.action)) type.actions.push(permission.action);
      if (permission.instance !== '*') type.has_instances = true;
      unknown.set(permission.object_type, type);
    }
  }
  return [...unknown.values()];
}

/** An unknown type as the operator's permission-types file declares it. */
export function asOperatorType(type: UnknownType): PermissionType {
  return {
    object_type: type.object_type,
    display_name: type.object_type,
    description: 'Imported with a role that held it.',
    actions: type.actions.map((name) => ({ name, display_name: name, description: '', ...(type.has_instances ? { instance: 'name' as const } : {}) })),
  };
}

/** The role's permissions as the API checks them, or undefined after naming what is wrong. */
function checkedPermissions(role: PortableRole, refusals: string[]): Permission[] | undefined {
  const known = role.permissions.filter((permission) => findAction(permission.object_type, permission.action));
  // An unknown one is refused already (unknownTypesOf).
  if (known.length !== role.permissions.length) return undefined;
  try {
    return validPermissions(known);
  } catch (error) {
    if (error instanceof ServiceError) {
      refusals.push(`role ${role.id} "${role.display_name}": ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

const CHUNK = 1000;

/** A lookup by ids made a thousand ids at a time, its maps merged. */
async function inChunks<V>(ids: readonly string[], lookup: (ids: readonly string[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
  const merged = new Map<string, V>();
  for (let at = 0; at < ids.length; at += CHUNK) for (const [id, value] of await lookup(ids.slice(at, at + CHUNK))) merged.set(id, value);
  return merged;
}

/** The settings that differ (the id aside). */
function changedSettings(held: DirectorySettings, given: DirectorySettings): string[] {
  return (Object.keys(given) as (keyof DirectorySettings)[]).filter((key) => key !== 'id' && JSON.stringify(held[key]) !== JSON.stringify(given[key]));
}
