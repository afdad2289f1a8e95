import { Command } from 'commander';
import { SETTINGS, showSetting, unknownVariableWarnings, type Config } from '../../config/config.js';
import { redactUrl } from '../../store/database.js';
import { configOf, configWithPermissionTypes, print, warn, withSettingOptions } from '../context.js';
import { migrateToLatest } from '../../store/migrate.js';
import { openStore } from '../../store/database.js';

export function migrateCommand(): Command {
  return withSettingOptions(new Command('migrate'))
    .description('apply the database migrations and exit (the service also applies them at start)')
    .action(async (_options, command: Command) => {
      const config = configWithPermissionTypes(command);
      const store = openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, poolSize: 1 });
      try {
        const applied = await migrateToLatest(store, (notice) => warn(`rbac: ${notice}`));
        print(applied.length > 0 ? `applied: ${applied.join(', ')}` : `${store.location} is up to date`);
      } finally {
        await store.close();
      }
    });
}

/** Settings whose URL may carry a password. */
const URLS_WITH_PASSWORDS = new Set(['database-url', 'rate-limit-store']);

/** The effective value of each setting, with secrets masked. */
export function describeConfig(config: Config): string[] {
  return SETTINGS.map((setting) => {
    const value = config[setting.field];
    const shown =
      URLS_WITH_PASSWORDS.has(setting.key) && typeof value === 'string' ? redactUrl(value) : value === undefined ? '(unset)' : showSetting(setting, value);
    return `${setting.key} = ${shown}`;
  });
}

export function configCommand(): Command {
  const config = new Command('config').description('inspect the configuration');
  config.addCommand(
    withSettingOptions(new Command('check'))
      .description('validate the settings (flags, RBAC_* variables, --config) and print the effective values, secrets masked; every bad key is named, and RBAC_* variables that are no setting are warned about')
      .action(async (_options, command: Command) => {
        for (const warning of unknownVariableWarnings(process.env)) warn(`rbac: warning: ${warning}`);
        for (const line of describeConfig(configOf(command))) print(line);
      }),
  );
  return config;
}

