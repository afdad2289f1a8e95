// The `rbac` command. Every command takes the same settings as the service:
// flags, RBAC_* environment variables and --config.

import { Command, CommanderError, Option } from 'commander';
import { ConfigError, SETTINGS, envName, loadConfig, type Config } from '../config/config.js';
import { startService } from '../server.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

function addSettingOptions(command: Command): Command {
  command.addOption(new Option('--config <file>', 'JSON or YAML config file with settings under `rbac`').env('RBAC_CONFIG'));
  for (const setting of SETTINGS) {
    const flag = setting.default === false ? `--${setting.key}` : `--${setting.key} <value>`;
    const defaultText = setting.default === undefined ? '' : ` (default: ${String(setting.default)}; env ${envName(setting.key)})`;
    command.addOption(new Option(flag, `${setting.description}${defaultText}`));
  }
  return command;
}

/** The config from a command's parsed options (flags), the environment and the config file. */
export function configFrom(command: Command, env: NodeJS.ProcessEnv = process.env): Config {
  const options = command.opts<Record<string, string | boolean | undefined>>();
  const flags: Record<string, string | boolean | undefined> = {};
  for (const setting of SETTINGS) {
    const attribute = setting.key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    flags[setting.key] = options[attribute];
  }
  return loadConfig({ flags, env, configFile: options.config as string | undefined });
}

export function buildProgram(): Command {
  const program = new Command('rbac')
    .description('RBAC password service speaking the Puppet Enterprise RBAC API v1')
    .showHelpAfterError()
    .exitOverride();

  addSettingOptions(
    program
      .command('serve')
      .description('run the service (HTTPS on port 4433 by default)')
      .action(async (_options, command: Command) => {
        const config = configFrom(command);
        const service = await startService(config, { adminPassword: process.env.RBAC_ADMIN_PASSWORD });
        process.stderr.write(`rbac service running at ${service.url}${service.certPath ? ` (certificate: ${service.certPath})` : ''}\n`);
        let closing = false;
        const shutdown = (signal: string) => {
          if (closing) return;
          closing = true;
          service.app.log.info({ signal }, 'shutting down');
          service.close().then(
            () => process.exit(EXIT.ok),
            () => process.exit(EXIT.failure),
          );
        };
        process.on('SIGTERM', () => shutdown('SIGTERM'));
        process.on('SIGINT', () => shutdown('SIGINT'));
      }),
  );

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`rbac: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`rbac: ${(error as Error).message}\n`);
    return EXIT.failure;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== EXIT.ok) process.exit(code);
  });
}
