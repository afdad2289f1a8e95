// `rbac types [--json]`: the permission catalogue — PE's object types and
// actions and the operator's (`permission-types`) — as GET /types lists it.
// Reads the settings only; no database is opened.

import { Command } from 'commander';
import { typesAnswer } from '../../catalogue/catalogue.js';
import { configWithPermissionTypes, printListing, withSettingOptions } from '../context.js';

const HEADER = ['TYPE', 'ACTION', 'INSTANCES', 'NAME'];

export function typesCommand(): Command {
  return withSettingOptions(new Command('types'), ['permission-types'])
    .description('list the permission types and their actions that roles may hold (as GET /types), with the types of permission-types')
    .option('--json', 'print JSON, as GET /types returns it')
    .action((options: { json?: boolean }, command: Command) => {
      configWithPermissionTypes(command);
      const types = typesAnswer();
      if (options.json) return printListing(true, types, HEADER, () => []);
      const actions = types.flatMap((type) => type.actions.map((action) => ({ type, action })));
      printListing(false, actions, HEADER, ({ type, action }) => [type.object_type, action.name, action.has_instances ? 'one or "*"' : '"*" only', `${type.display_name}: ${action.display_name}`]);
    });
}
