// What every command needs: the settings (flags, RBAC_* variables, --config)
// and, for commands that touch data, the migrated store.

import { Command, Option } from 'commander';
import { SETTINGS, envName, loadConfig, showSetting, type Config, type SettingKey } from '../config/config.js';
import { ServiceError } from '../errors.js';
import { installPermissionTypes } from '../catalogue/catalogue.js';
import { openServices, type Services } from '../services.js';
import type { Executor } from '../store/transaction.js';
import { findUserByLogin } from '../users/users.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The operator at the server's shell, as the audit trail records a command's changes: no actor, source `cli`. */
export const OPERATOR = { actor: null, sourceAddress: 'cli' } as const;

/** A failure the user can act on: printed as `rbac: <message>`, exit code 1 (or the one given). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Adds --config and one flag per setting, as the service takes them. */
/** Every setting as an option; `shown` names the ones this command's --help lists besides the common ones (those that change what it does). */
export function withSettingOptions(command: Command, shown: readonly SettingKey[] = []): Command {
  command.addOption(new Option('--config <file>', 'JSON or YAML config file with settings under `rbac` (env RBAC_CONFIG)'));
  for (const setting of SETTINGS) {
    const flag = setting.default === false ? `--${setting.key}` : `--${setting.key} <value>`;
    const defaultText = setting.default === undefined || setting.default === false ? '' : `; default ${showSetting(setting, setting.default)}`;
    const hidden = !COMMON_SETTINGS.has(setting.key) && !shown.includes(setting.key);
    command.addOption(new Option(flag, `${setting.description} (env ${envName(setting.key)}${defaultText})`).hideHelp(hidden));
  }
  return command;
}

// Shown in every command's --help; the rest are accepted everywhere but listed by `rbac serve --help`.
const COMMON_SETTINGS = new Set(['data-dir', 'database-url', 'log-level']);

export function showAllSettings(command: Command): Command {
  for (const option of command.options) option.hideHelp(false);
  return command;
}

/** The settings from a command's flags, the environment and the config file. */
export function configOf(command: Command, env: NodeJS.ProcessEnv = process.env): Config {
  const options = command.opts<Record<string, string | boolean | undefined>>();
  const flags: Record<string, string | boolean | undefined> = {};
  for (const setting of SETTINGS) {
    const attribute = setting.key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    flags[setting.key] = options[attribute];
  }
  return loadConfig({ flags, env, configFile: (options.config as string | undefined) ?? env.RBAC_CONFIG });
}

/**
 * The settings, with the operator's permission types installed beside PE's:
 * for a command that reads the permission catalogue before (or without)
 * opening the services, which install them too.
 */
export function configWithPermissionTypes(command: Command): Config {
  const config = configOf(command);
  installPermissionTypes(config.permissionTypes);
  return config;
}

/** Runs `work` on the services (migrated store, a hasher that starts on first use, the key ring), and closes them whatever happens. */
export async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const services = await openServices(config, { hasher: 'lazy', poolSize: 2 });
  // A command may be what migrates the database: the operator hears what the service would log.
  services.migrationNotices.forEach((notice) => warn(`rbac: ${notice}`));
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}

/** The user of this login (any case), or a not-found failure naming it (exit 1). */
export async function userByLogin(db: Executor, login: string) {
  const user = await findUserByLogin(db, login);
  if (!user) throw new ServiceError('not-found', `No user has the login "${login}".`);
  return user;
}

/** Runs `work` on the services and the user of this login (any case); exit 1 when no user has it. */
export function withUser<T>(config: Config, login: string, work: (user: Awaited<ReturnType<typeof userByLogin>>, services: Services) => Promise<T>): Promise<T> {
  return withServices(config, async (services) => work(await userByLogin(services.store.db, login), services));
}

/** Rows under a header, each column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

/** JSON (pretty) or a table, as the command's --json asks. */
export function printListing<T>(json: boolean | undefined, items: T[], header: readonly string[], row: (item: T) => string[]): void {
  if (json) print(JSON.stringify(items, null, 2));
  else for (const line of table(header, items.map(row))) print(line);
}

/** `list [--json]`: what `load` returns, as a table or, with --json, as JSON (`json` says which API answer it matches). */
export function listCommand<T>(description: string, json: string, load: (services: Services) => Promise<T[]>, header: readonly string[], row: (item: T) => string[]): Command {
  return withSettingOptions(new Command('list'))
    .description(description)
    .option('--json', `print JSON, ${json}`)
    .action(async (options: { json?: boolean }, command: Command) => printListing(options.json, await withServices(configOf(command), load), header, row));
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}
