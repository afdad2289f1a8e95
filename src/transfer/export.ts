// `rbac export`: this instance's users, roles, groups, directory settings and
// disclaimer as one portable document (CONTRACT §16), read as the API reads
// them — so never a password hash, a token or a bind password.

import { listDirectories } from '../directory/directories.js';
import { currentDisclaimer } from '../disclaimer/disclaimer.js';
import { listGroups } from '../groups/groups.js';
import { listRoles } from '../roles/roles.js';
import type { Executor } from '../store/transaction.js';
import { listUsers, type UserView } from '../users/users.js';
import { FORMAT_VERSION, type PortableDocument } from './document.js';

/** The document, read in one go; `source` names this instance in the importer's audit events. */
export async function exportDocument(db: Executor, view: UserView, source: string): Promise<PortableDocument> {
  const [users, roles, groups, directories, disclaimer] = [await listUsers(db, null, view), await listRoles(db), await listGroups(db), await listDirectories(db, null), await currentDisclaimer(db)];
  return {
    format_version: FORMAT_VERSION,
    source,
    exported_at: new Date().toISOString(),
    users: users.map((user) => ({
      id: user.id,
      login: user.login,
      email: user.email,
      display_name: user.display_name,
      role_ids: user.role_ids,
      is_remote: user.is_remote,
      is_superuser: user.is_superuser,
      is_revoked: user.is_revoked,
      last_login: user.last_login,
      group_ids: user.group_ids,
    })),
    roles: roles.map((role) => ({ id: role.id, display_name: role.display_name, description: role.description, permissions: role.permissions })),
    groups: groups.map((group) => ({ id: group.id, login: group.login, display_name: group.display_name, role_ids: group.role_ids, identity_provider_id: group.identity_provider_id })),
    directories,
    disclaimer: disclaimer ?? null,
  };
}
