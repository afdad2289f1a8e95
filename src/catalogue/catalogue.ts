// PE's permission catalogue and default roles: one declared table that
// GET /types, permission validation, /permitted and migration
// 016_default_roles all read. Each action says which instances it takes
// (none: "*" only) and which of PE's default roles hold it, as PE's
// "Reference: User permissions and names" lists them (sources in
// docs/decisions.md, "PE's permission catalogue"). An operator may add the
// object types of their own services (setting `permission-types`), read and
// checked at start; the composition root installs them.

import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { isUuid } from '../uuids.js';

/** What the instance of a permission names, for actions that can name one object. */
export type InstanceKind = 'user' | 'role' | 'group' | 'node_group' | 'environment' | 'task' | 'plan' | 'task_target' | 'name';

/** PE's default roles other than Administrators, by name: who holds an action by default. */
export type DefaultRoleName = 'Operators' | 'Viewers' | 'Code Deployers' | 'Project Deployers';

export interface PermissionAction {
  name: string;
  display_name: string;
  description: string;
  /** Absent: the action concerns no one object, so its instance is always "*". */
  instance?: InstanceKind;
  /** PE's default roles (besides Administrators, which holds everything) that hold this action on "*". */
  roles?: readonly DefaultRoleName[];
}

export interface PermissionType {
  object_type: string;
  display_name: string;
  description: string;
  actions: readonly PermissionAction[];
}

const MAX_ROLE_ID = 2_147_483_647;
const isPositiveId = (text: string) => /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= MAX_ROLE_ID;
// Puppet's names: environments are lower-case letters, digits and underscores;
// a task is `module` or `module::task`, a plan `module` or `module::a::b`.
const PUPPET_NAME = /^[a-z][a-z0-9_]*$/;
const isTaskName = (text: string) => text.split('::').length <= 2 && text.split('::').every((part) => PUPPET_NAME.test(part));
const isPlanName = (text: string) => text.split('::').every((part) => PUPPET_NAME.test(part));

/**
 * How an instance of each kind is spelled. The service knows its own objects'
 * ids (users, roles, groups); of other services' objects it can check the
 * form only (a node group id is a UUID, an environment a Puppet environment
 * name), so a permission on a node group that does not exist is stored, as
 * PE stores it. `name`: an operator's type, whose ids this service cannot
 * know: any text without control characters.
 */
export const INSTANCE_FORMS: Record<InstanceKind, { test: (text: string) => boolean; names: string }> = {
  user: { test: isUuid, names: 'the id of a user (a UUID)' },
  role: { test: isPositiveId, names: 'the id of a role (a positive integer)' },
  group: { test: isUuid, names: 'the id of a group (a UUID)' },
  node_group: { test: isUuid, names: 'the id of a node group (a UUID)' },
  environment: { test: (text) => /^[a-z0-9_]+$/.test(text), names: 'an environment name (lower-case letters, digits, underscores)' },
  task: { test: isTaskName, names: 'a task name (module or module::task)' },
  plan: { test: isPlanName, names: 'a plan name (module or module::plan)' },
  task_target: { test: isPositiveId, names: 'the id of a task-target (a positive integer)' },
  // eslint-disable-next-line no-control-regex
  name: { test: (text) => text.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(text), names: 'an id without control characters' },
};

const STAR_ONLY = 'Object must always be "*".';

/** PE's object types and actions, in the order of PE's reference; the service's own first (GET /types numbers them in this order). */
export const PE_PERMISSION_TYPES = [
  {
    object_type: 'users',
    display_name: 'Users',
    description: 'Create, edit, revoke and reset the passwords of users.',
    actions: [
      { name: 'create', display_name: 'Create', description: `Create local and remote users. ${STAR_ONLY}` },
      { name: 'edit', display_name: 'Edit', description: "Edit a user's login, email and display name, and delete users.", instance: 'user' },
      { name: 'disable', display_name: 'Revoke', description: "Revoke, un-revoke or delete a user, and revoke the user's tokens.", instance: 'user' },
      { name: 'reset_password', display_name: 'Reset password', description: 'Issue password reset tokens for a local user (using one reinstates a revoked user).', instance: 'user' },
    ],
  },
  {
    object_type: 'user_roles',
    display_name: 'User roles',
    description: 'Create, edit and delete roles, and give them to users.',
    actions: [
      { name: 'create', display_name: 'Create', description: `Create roles. ${STAR_ONLY}` },
      { name: 'edit', display_name: 'Edit', description: "Edit a role's name, description and permissions, or delete it.", instance: 'role' },
      { name: 'edit_members', display_name: 'Edit members', description: 'Give the role to users and groups and take it from them (only roles whose permissions the giver holds).', instance: 'role' },
    ],
  },
  {
    object_type: 'user_groups',
    display_name: 'User groups',
    description: 'Import groups from the directory service and delete them.',
    actions: [
      { name: 'import', display_name: 'Import', description: `Import groups from the directory service. ${STAR_ONLY}` },
      { name: 'delete', display_name: 'Delete', description: 'Delete an imported group.', instance: 'group' },
    ],
  },
  {
    object_type: 'directory_service',
    display_name: 'Directory service',
    description: 'The connection to the directory service (LDAP).',
    actions: [{ name: 'edit', display_name: 'View, edit, and test', description: `View, edit and test the directory service settings. ${STAR_ONLY}` }],
  },
  {
    object_type: 'configuration',
    display_name: 'Configuration',
    description: 'Service configuration such as the login disclaimer.',
    actions: [
      { name: 'view', display_name: 'View', description: 'View the configuration, such as the disclaimer.' },
      { name: 'edit', display_name: 'Edit', description: 'Edit the configuration, such as the disclaimer.' },
      { name: 'view_disclaimer', display_name: 'View disclaimer', description: 'View the login disclaimer.' },
      { name: 'edit_disclaimer', display_name: 'Edit disclaimer', description: 'Set and remove the login disclaimer.' },
    ],
  },
  {
    object_type: 'tokens',
    display_name: 'Tokens',
    description: 'Login tokens.',
    actions: [
      {
        name: 'override_lifetime',
        display_name: 'Override default expiry',
        description: 'Ask for login tokens longer-lived than the default.',
        roles: ['Operators', 'Code Deployers'],
      },
    ],
  },
  {
    object_type: 'cert_requests',
    display_name: 'Certificate requests',
    description: 'Certificate signing requests of agent nodes.',
    actions: [{ name: 'accept_reject', display_name: 'Accept and reject', description: `Accept and reject certificate signing requests. ${STAR_ONLY}`, roles: ['Operators'] }],
  },
  {
    object_type: 'console_page',
    display_name: 'Console',
    description: 'The PE console.',
    actions: [{ name: 'view', display_name: 'View', description: `View the PE console. ${STAR_ONLY}`, roles: ['Operators', 'Viewers'] }],
  },
  {
    object_type: 'orchestrator',
    display_name: 'Job orchestrator',
    description: 'Orchestrator jobs.',
    actions: [
      {
        name: 'view',
        display_name: 'Start, stop and view jobs',
        description: 'Start and stop jobs and tasks, view jobs and their progress, and the inventory of nodes connected to the PCP broker.',
        roles: ['Operators', 'Viewers', 'Project Deployers'],
      },
    ],
  },
  {
    object_type: 'node_groups',
    display_name: 'Node groups',
    description: 'Groups that nodes are classified by; a permission on a group holds for its descendants.',
    actions: [
      { name: 'modify_children', display_name: 'Create, edit, and delete child groups', description: "Create, delete and edit the group's child groups, except their environment.", instance: 'node_group', roles: ['Operators'] },
      { name: 'edit_child_rules', display_name: 'Edit child group rules', description: "Edit the rules of the group's descendants (not the group's own).", instance: 'node_group', roles: ['Operators'] },
      { name: 'edit_classification', display_name: 'Edit classes, parameters, and variables', description: 'Edit everything of the group but its environment and rule.', instance: 'node_group', roles: ['Operators'] },
      { name: 'edit_config_data', display_name: 'Edit configuration data', description: 'Edit parameterized configuration data of the group.', instance: 'node_group', roles: ['Operators'] },
      { name: 'edit_params_and_vars', display_name: 'Edit parameters and variables', description: "Edit the class parameters and variables of the group's classes.", instance: 'node_group', roles: ['Operators'] },
      { name: 'set_environment', display_name: 'Set environment', description: 'Set the environment of the group.', instance: 'node_group', roles: ['Operators'] },
      { name: 'view', display_name: 'View', description: 'See everything of the group, including class parameters and variables.', instance: 'node_group', roles: ['Operators', 'Viewers'] },
    ],
  },
  {
    object_type: 'nodes',
    display_name: 'Nodes',
    description: 'Node data from PuppetDB and the inventory service.',
    actions: [
      { name: 'edit_data', display_name: 'Edit node data from PuppetDB', description: `Edit node data imported from PuppetDB. ${STAR_ONLY}` },
      { name: 'view_data', display_name: 'View node data from PuppetDB', description: `View node data imported from PuppetDB. ${STAR_ONLY}` },
      {
        name: 'view_inventory_sensitive',
        display_name: 'View sensitive connection information in inventory service',
        description: `View sensitive parameters of an inventory service connection, such as credentials. ${STAR_ONLY}`,
      },
    ],
  },
  {
    object_type: 'plans',
    display_name: 'Plans',
    description: 'Plans run by the orchestrator.',
    actions: [{ name: 'run', display_name: 'Run plans', description: 'Run a plan (or every plan) on all nodes.', instance: 'plan' }],
  },
  {
    object_type: 'puppet_agent',
    display_name: 'Puppet agent',
    description: 'Puppet runs on agent nodes.',
    actions: [{ name: 'run', display_name: 'Run Puppet on agent nodes', description: `Trigger a Puppet run from the console or orchestrator. ${STAR_ONLY}`, roles: ['Operators'] }],
  },
  {
    object_type: 'environment',
    display_name: 'Puppet environment',
    description: 'Puppet code environments.',
    actions: [{ name: 'deploy_code', display_name: 'Deploy code', description: 'Deploy code to an environment (or every environment).', instance: 'environment', roles: ['Operators', 'Code Deployers'] }],
  },
  {
    object_type: 'puppetserver',
    display_name: 'Puppet Server',
    description: 'Catalog compilation.',
    actions: [{ name: 'compile_catalogs', display_name: 'Compile catalogs for remote nodes', description: 'Compile a catalog for any node managed by this installation.' }],
  },
  {
    object_type: 'tasks',
    display_name: 'Tasks',
    description: 'Tasks run by the orchestrator.',
    actions: [
      { name: 'run', display_name: 'Run tasks', description: 'Run a task (or every task) on all nodes, a node group or the nodes a PQL query matches.', instance: 'task' },
      { name: 'run_with_constraints', display_name: 'Run tasks in a task-target', description: 'Run the tasks of a task-target on its nodes.', instance: 'task_target' },
    ],
  },
] as const satisfies readonly PermissionType[];

export interface DefaultRole {
  id: number;
  display_name: 'Administrators' | DefaultRoleName;
  description: string;
}

/** PE's default roles with the ids a fresh PE gives them (PE's Puppet module gives a new user role 3, Viewers, when none is named). */
export const DEFAULT_ROLES = [
  { id: 1, display_name: 'Administrators', description: 'Every permission. Its permissions cannot change and it cannot be deleted.' },
  { id: 2, display_name: 'Operators', description: 'Create and modify node groups and other objects, run Puppet and deploy code.' },
  { id: 3, display_name: 'Viewers', description: 'View, but not change, node groups and other objects in the console.' },
  { id: 4, display_name: 'Code Deployers', description: 'Deploy code from version control to Puppet Server.' },
  { id: 5, display_name: 'Project Deployers', description: 'Deploy projects and run their tasks and plans.' },
] as const satisfies readonly DefaultRole[];

export const ADMINISTRATORS_ROLE_ID = 1;

// The operator's types (setting `permission-types`), installed at start by
// the composition root, and every permission there is (Administrators'),
// computed once per installation: the token check of every request reads it.
let operatorTypes: readonly PermissionType[] = [];
let everyPermission: readonly CataloguePermission[] | undefined;

interface CataloguePermission {
  object_type: string;
  action: string;
  instance: string;
}

/** Every object type: PE's, then the operator's. */
export function permissionTypes(): readonly PermissionType[] {
  return operatorTypes.length === 0 ? PE_PERMISSION_TYPES : [...PE_PERMISSION_TYPES, ...operatorTypes];
}

/** Installs the operator's object types (already checked by readPermissionTypes); one process serves one configuration. */
export function installPermissionTypes(types: readonly PermissionType[] | undefined): void {
  operatorTypes = types ?? [];
  everyPermission = undefined;
}

/** The type and action of this name, if the catalogue has them. */
export function findAction(objectType: string, action: string): { type: PermissionType; action: PermissionAction } | undefined {
  const type = permissionTypes().find((candidate) => candidate.object_type === objectType);
  const found = type?.actions.find((candidate) => candidate.name === action);
  return type && found ? { type, action: found } : undefined;
}

/** Whether the action can name one object (PE's has_instances); a type has instances when one of its actions does. */
export const actionHasInstances = (action: PermissionAction) => action.instance !== undefined;
export const typeHasInstances = (type: PermissionType) => type.actions.some(actionHasInstances);

/** GET /types (and `rbac types --json`): PE's answer, every type and action with has_instances, numbered in order. */
export function typesAnswer() {
  return permissionTypes().map((type, index) => ({
    id: index + 1,
    object_type: type.object_type,
    display_name: type.display_name,
    description: type.description,
    has_instances: typeHasInstances(type),
    actions: type.actions.map((action, actionIndex) => ({
      id: actionIndex + 1,
      name: action.name,
      display_name: action.display_name,
      description: action.description,
      has_instances: actionHasInstances(action),
    })),
  }));
}

/** The permissions a default role holds: Administrators every one there is, the others those the table gives them, all on "*". */
export function defaultRolePermissions(role: Pick<DefaultRole, 'display_name'>): CataloguePermission[] {
  const holds = (action: PermissionAction) => role.display_name === 'Administrators' || (action.roles ?? []).some((name) => name === role.display_name);
  const list = () => permissionTypes().flatMap((type) => type.actions.filter(holds).map((action) => ({ object_type: type.object_type, action: action.name, instance: '*' })));
  if (role.display_name !== 'Administrators') return list();
  everyPermission ??= list();
  return [...everyPermission];
}

// The `permission-types` file: a list of {object_type, display_name, has_instances, actions: [{name, display_name}]}.
const SystemName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });
const DisplayName = Type.String({ minLength: 1, maxLength: 255 });
const Description = Type.Optional(Type.String({ maxLength: 1024 }));
const OperatorType = Type.Object(
  {
    object_type: SystemName,
    display_name: DisplayName,
    description: Description,
    has_instances: Type.Boolean(),
    actions: Type.Array(
      Type.Object({ name: SystemName, display_name: DisplayName, description: Description, has_instances: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
type OperatorType = Static<typeof OperatorType>;

const MAX_OPERATOR_TYPES = 1000;

/** What is wrong with an entry that does not fit the schema: the first fault, at its path (`actions/0/name`). */
function shapeError(entry: unknown): string {
  // TypeBox reports an unknown key twice; the `additionalProperties` one names it.
  const fault = [...Value.Errors(OperatorType, entry)].find((error) => error.keyword !== 'boolean');
  if (!fault) return 'is not an object type';
  const where = fault.instancePath ? `${fault.instancePath.slice(1)} ` : '';
  const unknown = (fault.params as { additionalProperties?: string[] }).additionalProperties;
  return unknown ? `${where}has an unknown key: ${unknown.join(', ')}`.trimStart() : `${where}${fault.message}`;
}

/** Where an entry of the file went wrong, in words an operator can find it by. */
function entryName(entry: unknown, index: number): string {
  const objectType = (entry as { object_type?: unknown } | null)?.object_type;
  return `entry ${index + 1}${typeof objectType === 'string' ? ` (object_type "${objectType}")` : ''}`;
}

/**
 * Reads and checks the operator's object types: a YAML or JSON file holding a
 * list of them. A type's actions name instances when its has_instances is
 * true (an action may say otherwise); its instances are any id of theirs
 * (`name`). Throws an Error whose message names the file's entry at fault; a
 * type or action may not repeat, nor take the name of one of PE's types.
 */
export function readPermissionTypes(file: string): PermissionType[] {
  let parsed: unknown;
  try {
    const content = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(content) : parseYaml(content);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${file} must hold a list of object types ({object_type, display_name, has_instances, actions: [{name, display_name}]})`);
  if (parsed.length > MAX_OPERATOR_TYPES) throw new Error(`${file} declares ${parsed.length} object types; at most ${MAX_OPERATOR_TYPES}`);
  const seen = new Set<string>(PE_PERMISSION_TYPES.map((type) => type.object_type));
  return parsed.map((entry: unknown, index) => {
    if (!Value.Check(OperatorType, entry)) {
      throw new Error(`${entryName(entry, index)} in ${file}: ${shapeError(entry)} (an entry is {object_type, display_name, has_instances, actions: [{name, display_name}]}; names are lower-case letters, digits and underscores)`);
    }
    const type: OperatorType = entry;
    if (seen.has(type.object_type)) {
      const builtIn = PE_PERMISSION_TYPES.some((candidate) => candidate.object_type === type.object_type);
      throw new Error(`${entryName(entry, index)} in ${file}: object_type "${type.object_type}" is ${builtIn ? "one of PE's types" : 'declared twice'}`);
    }
    seen.add(type.object_type);
    const names = type.actions.map((action) => action.name);
    const repeated = names.find((name, at) => names.indexOf(name) !== at);
    if (repeated) throw new Error(`${entryName(entry, index)} in ${file}: action "${repeated}" is declared twice`);
    return {
      object_type: type.object_type,
      display_name: type.display_name,
      description: type.description ?? '',
      actions: type.actions.map((action) => ({
        name: action.name,
        display_name: action.display_name,
        description: action.description ?? '',
        ...((action.has_instances ?? type.has_instances) ? { instance: 'name' as const } : {}),
      })),
    };
  });
}
