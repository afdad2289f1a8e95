// The `rbac` command. Every command takes the same settings as the service:
// flags, RBAC_* environment variables and --config. Exit codes: 0 ok,
// 1 failure, 2 usage or configuration error; messages go to stderr.

import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { ServiceError } from '../errors.js';
import { SERVICE_VERSION } from '../version.js';
import type { RuleFailure } from '../rule-failures.js';
import { allowlistCommand } from './commands/allowlist.js';
import { resetAdminPasswordCommand } from './commands/admin-password.js';
import { keysCommand } from './commands/keys.js';
import { ldapCommand } from './commands/ldap.js';
import { configCommand, migrateCommand } from './commands/maintenance.js';
import { resetTokenCommand } from './commands/reset-token.js';
import { rolesCommand } from './commands/roles.js';
import { typesCommand } from './commands/types.js';
import { serveCommand } from './commands/serve.js';
import { tokensCommand } from './commands/tokens.js';
import { exportCommand, importCommand } from './commands/transfer.js';
import { usersCommand } from './commands/users.js';
import { CliError, EXIT, warn } from './context.js';

export { EXIT };

export function buildProgram(): Command {
  const program = new Command('rbac')
    .description('RBAC password service speaking the Puppet Enterprise RBAC API v1')
    .version(SERVICE_VERSION, '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const command of [serveCommand(), resetAdminPasswordCommand(), usersCommand(), rolesCommand(), typesCommand(), allowlistCommand(), ldapCommand(), tokensCommand(), resetTokenCommand(), keysCommand(), importCommand(), exportCommand(), migrateCommand(), configCommand()]) {
    program.addCommand(command);
  }
  // Subcommands throw instead of exiting, so main() decides the exit code.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  return program;
}

function describe(error: ServiceError): string {
  // One line per broken password or login rule, as PE's failures list them,
  // after what the message says before them (`RBAC_ADMIN_PASSWORD is not
  // acceptable:`), which names the password the rules were applied to.
  const failures = (error.details as { failures?: RuleFailure[] } | undefined)?.failures;
  if (!failures) return error.message;
  const listed = failures.map((failure) => failure['friendly-error']);
  const joined = listed.join(' ');
  const lead = error.message.endsWith(joined) ? error.message.slice(0, error.message.length - joined.length).trim() : '';
  return [...(lead ? [lead] : []), ...listed].join('\n  ');
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof ConfigError) {
      warn(`rbac: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof CliError) {
      warn(`rbac: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof ServiceError) {
      warn(`rbac: ${describe(error)}`);
      return EXIT.failure;
    }
    warn(`rbac: ${(error as Error).message ?? String(error)}`);
    return EXIT.failure;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== EXIT.ok) process.exit(code);
  });
}
