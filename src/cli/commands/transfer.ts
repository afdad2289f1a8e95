// `rbac import` and `rbac export` (CONTRACT §16): moving users, roles,
// groups, directory settings and the disclaimer in from a running PE, or
// between instances of this service as one JSON document.
//
//   rbac import --from-pe URL --token T [--ca FILE] [--dry-run] [--reset-links FILE] [--allow-unknown-types]
//   rbac import FILE [--dry-run] [--reset-links FILE] [--allow-unknown-types]
//   rbac export [--out FILE]

import { closeSync, existsSync, fchmodSync, ftruncateSync, openSync, rmSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { resetPageUrl } from '../../http/routes/reset-page.js';
import { serviceUrl } from '../../server.js';
import { parseDocument, type PortableDocument } from '../../transfer/document.js';
import { exportDocument } from '../../transfer/export.js';
import { importDocument, type ImportReport, type ResetLink, type UnknownType } from '../../transfer/import.js';
import { readFromPe } from '../../transfer/pe-source.js';
import { CliError, EXIT, configOf, print, warn, withServices, withSettingOptions } from '../context.js';

interface ImportFlags {
  fromPe?: string;
  token?: string;
  ca?: string;
  dryRun?: boolean;
  resetLinks?: string;
  allowUnknownTypes?: boolean;
  permissionTypes?: string;
}

/** Reads a file the operator named, or fails naming it (exit 2). */
function readNamed(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT.usage);
  }
}

/** Writes a file only its owner may read (mode 0600, also when it existed with another mode). */
export function writePrivateFile(file: string, content: string): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/**
 * The reset-links file, opened (mode 0600) before the import so that links
 * are never issued to a file that cannot be written; its earlier content is
 * replaced only once the import has committed, and a file made here for an
 * import that failed is removed.
 */
function openResetLinks(file: string): { write(content: string): void; abandon(): void } {
  const existed = existsSync(file);
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o600);
    fchmodSync(fd, 0o600);
  } catch (error) {
    throw new CliError(`cannot write the reset links to ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT.usage);
  }
  return {
    write(content) {
      ftruncateSync(fd);
      writeSync(fd, content, 0);
      closeSync(fd);
    },
    abandon() {
      closeSync(fd);
      if (!existed) rmSync(file, { force: true });
    },
  };
}

/** The reset links as CSV: login,email,reset_url, a header first. */
export function resetLinksCsv(links: readonly ResetLink[]): string {
  return stringifyCsv([['login', 'email', 'reset_url'], ...links.map((link) => [link.login, link.email, link.reset_url])]);
}

/** The unknown types added to the operator's permission-types file (JSON or YAML), replaced whole so a reader never sees half of it. */
function addToPermissionTypesFile(file: string, types: readonly UnknownType[]): void {
  const content = readNamed(file, 'the permission-types file');
  const existing = (file.endsWith('.json') ? JSON.parse(content || '[]') : (parseYaml(content) ?? [])) as unknown[];
  const added = types.map((type) => ({
    object_type: type.object_type,
    display_name: type.object_type,
    description: 'Added by rbac import: a role imported with it held it.',
    has_instances: type.has_instances,
    actions: type.actions.map((name) => ({ name, display_name: name })),
  }));
  const all = [...existing, ...added];
  const temporary = `${file}.rbac-import`;
  writeFileSync(temporary, file.endsWith('.json') ? `${JSON.stringify(all, null, 2)}\n` : stringifyYaml(all));
  renameSync(temporary, file);
}

function printReport(report: ImportReport, dryRun: boolean): void {
  const lead = dryRun ? 'would ' : '';
  for (const line of report.changes) print(`${lead}${line}`);
  for (const type of report.unknownTypes) print(`${lead}add permission type ${type.object_type} (${type.actions.join(', ')})`);
  if (report.builtIn.length > 0) print(`built-in users matched by login and left as they are: ${report.builtIn.join(', ')}`);
  const count = report.changes.length;
  print(
    dryRun
      ? `dry run: ${count} change${count === 1 ? '' : 's'} would be made, ${report.unchanged} object${report.unchanged === 1 ? ' is' : 's are'} already equal; nothing was written`
      : `${count === 0 ? 'nothing to change' : `${count} change${count === 1 ? '' : 's'} made`}, ${report.unchanged} object${report.unchanged === 1 ? '' : 's'} already equal; ${report.resetLinks.length} reset link${report.resetLinks.length === 1 ? '' : 's'} issued`,
  );
}

export function importCommand(): Command {
  return withSettingOptions(new Command('import'), ['public-url', 'permission-types'], {
    'public-url': "base URL users reach the service at: the reset links' address",
    'permission-types': 'the operator\'s permission types file; with --allow-unknown-types the types the imported roles hold that this service does not know are added to it',
  })
    .description('import users, roles, groups, directory settings and the disclaimer from a running PE (--from-pe) or from a file `rbac export` wrote, in one transaction')
    .argument('[file]', 'a document `rbac export` wrote')
    .option('--from-pe <url>', "a PE (or rbac) service's base URL, e.g. https://pe.example.com:4433, read through PE's RBAC API")
    .option('--token <token>', 'a token of a PE superuser (admin) for --from-pe')
    .option('--ca <file>', "PEM CA certificates to trust for --from-pe (PE's CA, /etc/puppetlabs/puppet/ssl/certs/ca.pem)")
    .option('--dry-run', 'report what the import would change, and write nothing')
    .option('--reset-links <file>', 'where to write login,email,reset_url for each local user given a reset link (CSV, mode 0600)')
    .option('--allow-unknown-types', 'import roles holding permission types this service does not know, adding them to the permission-types file')
    .action(async (file: string | undefined, options: ImportFlags, command: Command) => {
      if ((file === undefined) === (options.fromPe === undefined)) throw new CliError('name a file, or a PE service with --from-pe URL (not both)', EXIT.usage);
      if (options.fromPe !== undefined && !options.token) throw new CliError('--from-pe needs --token: a token of a PE superuser (puppet access show)', EXIT.usage);
      if (file !== undefined && (options.token !== undefined || options.ca !== undefined)) throw new CliError('--token and --ca go with --from-pe', EXIT.usage);
      const typesFile = options.permissionTypes ?? process.env.RBAC_PERMISSION_TYPES;
      if (options.allowUnknownTypes && !typesFile) {
        throw new CliError('--allow-unknown-types adds the types to the permission-types file: name it with --permission-types FILE (a JSON or YAML list; [] to start)', EXIT.usage);
      }
      const config = configOf(command);
      const ca = options.ca === undefined ? undefined : readNamed(options.ca, 'the CA file');
      const progress = (message: string) => warn(`rbac import: ${message}`);
      const document: PortableDocument =
        file !== undefined
          ? parseDocument(readNamed(file, 'the document'), file)
          : await readFromPe({ url: options.fromPe as string, token: options.token as string, ca, progress });
      const baseUrl = config.publicUrl ?? serviceUrl(config, config.port);
      const links = options.resetLinks !== undefined && !options.dryRun ? openResetLinks(options.resetLinks) : undefined;
      let report: ImportReport;
      try {
        report = await withServices(config, ({ store, keys }) =>
          importDocument({ db: store.db, keys, config }, document, {
            dryRun: Boolean(options.dryRun),
            allowUnknownTypes: Boolean(options.allowUnknownTypes),
            deliversResetLinks: options.resetLinks !== undefined,
            resetLink: (token) => resetPageUrl(baseUrl, token),
            progress,
          }),
        );
      } catch (error) {
        links?.abandon();
        throw error;
      }
      links?.write(resetLinksCsv(report.resetLinks));
      if (!options.dryRun) {
        if (report.unknownTypes.length > 0 && typesFile) {
          addToPermissionTypesFile(typesFile, report.unknownTypes);
          warn(`rbac import: added ${report.unknownTypes.map((type) => type.object_type).join(', ')} to ${typesFile}; restart the service to read it`);
        }
      }
      printReport(report, Boolean(options.dryRun));
      if (report.directoriesCreated > 0 && !options.dryRun) {
        warn('rbac import: PE gives out no bind password: set it for each imported directory (POST /command/ldap/update or rbac ldap) before remote users log in');
      }
    });
}

export function exportCommand(): Command {
  return withSettingOptions(new Command('export'), ['public-url'])
    .description('write users, roles, groups, directory settings and the disclaimer as one JSON document (PE\'s API shapes; never a password hash, token or bind password), for `rbac import FILE`')
    .option('--out <file>', 'write it here (mode 0600) instead of standard output')
    .action(async (options: { out?: string }, command: Command) => {
      const config = configOf(command);
      const source = `rbac export from ${config.publicUrl ?? hostname()}`;
      const document = await withServices(config, ({ store }) => exportDocument(store.db, config, source));
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (options.out === undefined) process.stdout.write(text);
      else {
        writePrivateFile(options.out, text);
        warn(`rbac export: ${document.users.length} users, ${document.roles.length} roles, ${document.groups.length} groups, ${document.directories.length} directories written to ${options.out}`);
      }
    });
}
