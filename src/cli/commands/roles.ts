// `rbac roles …`: roles for the operator at the server, through the same
// domain functions as /roles and the role commands (who may: everyone, as
// the operator; what is recorded: the same audit events).
//
//   rbac roles list [--json]                          id, name, members, permissions
//   rbac roles create <name> [--description D] [--permission type:action[:instance] …]
//   rbac roles assign <role> <login>, rbac roles unassign <role> <login>
//                                                     <role>: its id or its display name

import { Command } from 'commander';
import { ServiceError } from '../../errors.js';
import { validPermissions, type Permission } from '../../permissions/permissions.js';
import { changeRolesOf, createRole, getRole, listRoles, type Role } from '../../roles/roles.js';
import { inTransaction, type Executor } from '../../store/transaction.js';
import { CliError, EXIT, configOf, configWithPermissionTypes, listCommand, print, printListing, OPERATOR, userByLogin, withServices, withSettingOptions } from '../context.js';

const HEADER = ['ID', 'NAME', 'MEMBERS', 'PERMISSIONS'];
const spelled = (permission: Permission) => `${permission.object_type}:${permission.action}:${permission.instance}`;
const row = (role: Role) => [String(role.id), role.display_name, String(role.user_ids.length), role.permissions.map(spelled).join(',')];

/**
 * `type:action` or `type:action:instance` (instance "*" when left out; a
 * plan or task name keeps its `::`), checked as the API checks permissions
 * against the catalogue with the operator's types; a bad one is a usage
 * error (exit 2), found before the database is opened.
 */
function parsePermission(text: string): Permission {
  const [object_type, action, ...rest] = text.split(':');
  const instance = rest.length === 0 ? '*' : rest.join(':');
  if (!object_type || !action || !instance) {
    throw new CliError(`--permission "${text}" is not type:action or type:action:instance (for example users:reset_password or users:edit:*)`, EXIT.usage);
  }
  try {
    return validPermissions([{ object_type, action, instance }])[0] as Permission;
  } catch (error) {
    if (error instanceof ServiceError) throw new CliError(`--permission "${text}": ${error.message}`, EXIT.usage);
    throw error;
  }
}

/** The role with this id, or else this display name; not-found (exit 1) when neither names one. */
async function roleNamed(db: Executor, idOrName: string): Promise<Role> {
  const byId = /^[1-9][0-9]{0,9}$/.test(idOrName) ? await getRole(db, Number(idOrName)) : undefined;
  const role = byId ?? (await listRoles(db)).find((candidate) => candidate.display_name === idOrName);
  if (!role) throw new ServiceError('not-found', `No role has the id or name "${idOrName}".`);
  return role;
}

export function rolesCommand(): Command {
  const roles = new Command('roles').description('list and create roles, give them to users and take them away');

  roles.addCommand(listCommand('list every role: id, name, how many members, permissions', 'as GET /roles returns it', ({ store }) => listRoles(store.db), HEADER, row));

  roles.addCommand(
    withSettingOptions(new Command('create'))
      .description('create a role, as POST /roles does, and print it')
      .argument('<name>', 'the display name')
      .option('--description <text>', 'what the role is for', '')
      .option('--permission <type:action[:instance]>', 'a permission the role grants (repeatable; instance "*" when left out), e.g. users:reset_password', (text: string, earlier: string[]) => [...earlier, text], [])
      .action(async (name: string, options: { description: string; permission: string[] }, command: Command) => {
        // Checked once the settings are read: permission-types may declare the type.
        const config = configWithPermissionTypes(command);
        const permissions = options.permission.map(parsePermission);
        const role = await withServices(config, ({ store }) =>
          inTransaction(store.db, (trx) => createRole(trx, null, { display_name: name, description: options.description, permissions }, OPERATOR)),
        );
        printListing(false, [role], HEADER, row);
      }),
  );

  for (const [name, change] of [['assign', 'add'], ['unassign', 'remove']] as const) {
    roles.addCommand(
      withSettingOptions(new Command(name))
        .description(change === 'add' ? 'give a role to a user, as POST /command/users/add-roles does' : 'take a role from a user, as POST /command/users/remove-roles does')
        .argument('<role>', 'the role id or display name')
        .argument('<login>')
        .action(async (roleText: string, login: string, _options, command: Command) => {
          const role = await withServices(configOf(command), ({ store }) =>
            inTransaction(store.db, async (trx) => {
              const role = await roleNamed(trx, roleText);
              const user = await userByLogin(trx, login);
              await changeRolesOf(trx, null, user.id, change, [role.id], OPERATOR);
              return role;
            }),
          );
          print(`${login} ${change === 'add' ? 'holds' : 'does not hold'} role ${role.id} (${role.display_name}).`);
        }),
    );
  }
  return roles;
}
