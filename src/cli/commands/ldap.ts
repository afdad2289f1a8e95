// `rbac ldap …`: the directory service settings for the operator at the
// server, through the same domain functions as PE's /ds and /command/ldap/*
// routes (the same checks, the same audit events; the bind password is
// never printed).
//
//   rbac ldap show [--json]                      every directory's settings
//   rbac ldap set <settings.json> [--id ID] [--bind-password-stdin]
//                                                the settings as PUT /ds takes them
//   rbac ldap test [--id ID]                     connect, bind, read base_dn

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { closest } from 'fastest-levenshtein';
import { Value } from 'typebox/value';
import { createDirectory, directoryAccess, listDirectories, replaceOnlyDirectory, testDirectory, updateDirectory } from '../../directory/directories.js';
import { ServiceError } from '../../errors.js';
import { NewDirectoryBody, type DirectorySettings } from '../../shapes.js';
import { CliError, EXIT, OPERATOR, configOf, print, printListing, withServices, withSettingOptions } from '../context.js';
import { readStdin } from '../password-input.js';

const HEADER = ['ID', 'NAME', 'URL', 'BASE DN', 'LOOKUP ACCOUNT'];
const url = (settings: DirectorySettings) => `${settings.ssl ? 'ldaps' : 'ldap'}://${settings.hostname}:${settings.port}${settings.start_tls ? ' (StartTLS)' : ''}`;
const row = (settings: DirectorySettings) => [settings.id, settings.display_name, url(settings), settings.base_dn, settings.login ?? '(anonymous)'];

/** The settings file: JSON with PE's field names, checked as the API checks them; a bad one is a usage error (exit 2) found before the database is opened. */
function readSettingsFile(path: string): NewDirectoryBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path}: not a readable JSON file (${error instanceof Error ? error.message : String(error)})`, EXIT.usage);
  }
  // An unknown key by its name and the nearest known one, not as the schema's `/prot schema is false`.
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const known = Object.keys(NewDirectoryBody.properties);
    const unknown = Object.keys(parsed).filter((key) => !known.includes(key));
    if (unknown.length > 0) {
      const named = unknown.map((key) => `unknown key '${key}' (did you mean '${closest(key, known)}'?)`);
      throw new CliError(`${path}: ${named.join(', ')}`, EXIT.usage);
    }
  }
  const [first] = Value.Errors(NewDirectoryBody, parsed);
  if (first) throw new CliError(`${path}: ${first.instancePath ? `'${first.instancePath.slice(1)}'` : '(the object)'} ${first.message}`, EXIT.usage);
  return parsed as NewDirectoryBody;
}

export function ldapCommand(): Command {
  const ldap = new Command('ldap').description('show, set and test the directory service (LDAP) settings');

  ldap.addCommand(
    withSettingOptions(new Command('show'))
      .description("print every directory's settings (never the bind password)")
      .option('--json', 'as GET /rbac-api/v2/ldap answers them')
      .action(async (options: { json?: boolean }, command: Command) => {
        const directories = await withServices(configOf(command), ({ store }) => listDirectories(store.db, null));
        printListing(options.json, directories, HEADER, row);
      }),
  );

  ldap.addCommand(
    withSettingOptions(new Command('set'))
      .description('set the directory settings from a JSON file with PE\'s field names (as PUT /ds takes them) and print them')
      .argument('<file>', 'the settings, e.g. {"display_name": "…", "hostname": "…", "port": 636, "ssl": true, …}')
      .option('--id <id>', 'replace this directory (default: the first one, created when there is none)')
      .option('--new', 'add another directory instead of replacing one')
      .option('--bind-password-stdin', "read the lookup account's password from standard input (instead of the file's \"password\")")
      .action(async (file: string, options: { id?: string; new?: boolean; bindPasswordStdin?: boolean }, command: Command) => {
        const input = readSettingsFile(file);
        if (options.bindPasswordStdin) input.password = await readStdin();
        const settings = await withServices(configOf(command), ({ store }) => {
          if (options.new) return createDirectory(store.db, null, input, OPERATOR);
          if (options.id) return updateDirectory(store.db, null, { ...input, id: options.id }, OPERATOR);
          return replaceOnlyDirectory(store.db, null, input, OPERATOR);
        });
        printListing(false, [settings], HEADER, row);
      }),
  );

  ldap.addCommand(
    withSettingOptions(new Command('test'))
      .description('connect to the directory (TLS as set), bind as the lookup account and read base_dn')
      .option('--id <id>', 'test this directory (default: the first one)')
      .action(async (options: { id?: string }, command: Command) => {
        const result = await withServices(configOf(command), async ({ store }) => {
          const access = await directoryAccess(store.db, options.id);
          if (!access) throw new ServiceError('not-found', options.id ? `No directory has the id ${options.id}.` : 'No directory service is set: rbac ldap set <file> sets one.');
          return { name: access.settings.display_name, ...(await testDirectory(store.db, null, access, OPERATOR)) };
        });
        print(`${result.name}: connected, bound and read the base DN in ${result.elapsed} ms`);
      }),
  );
  return ldap;
}
