import { Command } from 'commander';
import { ServiceError } from '../../errors.js';
import { inTransaction } from '../../store/transaction.js';
import { accountExpiryIsOn, expireIdleAccounts } from '../../users/account-expiry.js';
import { createUser, findUserByLogin, listUsers, setRevoked, type User } from '../../users/users.js';
import { CliError, EXIT, configOf, print, OPERATOR, withServices, withSettingOptions } from '../context.js';
import { newPasswordFrom } from '../password-input.js';

function table(users: User[]): string[] {
  const rows = users.map((user) => [user.login, user.id, user.is_remote ? 'remote' : 'local', user.is_revoked ? 'revoked' : 'active', user.is_superuser ? 'superuser' : '']);
  const header = ['LOGIN', 'ID', 'KIND', 'STATE', ''];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

export function usersCommand(): Command {
  const users = new Command('users').description('list, create, revoke, reinstate and expire users');

  users.addCommand(
    withSettingOptions(new Command('list'))
      .description('list every user')
      .option('--json', 'print JSON, as GET /users returns it')
      .action(async (options: { json?: boolean }, command: Command) => {
        const all = await withServices(configOf(command), ({ store }) => listUsers(store.db, null));
        if (options.json) print(JSON.stringify(all, null, 2));
        else for (const line of table(all)) print(line);
      }),
  );

  users.addCommand(
    withSettingOptions(new Command('create'))
      .description('create a local user (with a password, or without one: then issue it a reset token) or a remote user')
      .argument('<login>')
      .option('--email <email>', 'email address', '')
      .option('--display-name <name>', 'name shown in consoles', '')
      .option('--remote', 'a remote user: its directory service checks its password')
      .option('--password-stdin', 'read the password from standard input')
      .option('--password <password>', 'the password (lands in shell history)')
      .action(async (login: string, options: { email: string; displayName: string; remote?: boolean; password?: string; passwordStdin?: boolean }, command: Command) => {
        const config = configOf(command);
        const wantsPassword = options.password !== undefined || options.passwordStdin;
        if (options.remote && wantsPassword) throw new CliError('a remote user has no password here', 2);
        const password = wantsPassword ? await newPasswordFrom(options) : undefined;
        const user = await withServices(config, ({ store, hasher }) =>
          createUser(
            { db: store.db, hasher, config },
            null,
            { login, email: options.email, display_name: options.displayName, is_remote: Boolean(options.remote), password },
            OPERATOR,
          ),
        );
        print(user.id);
      }),
  );

  for (const [name, revoked] of [['revoke', true], ['unrevoke', false]] as const) {
    users.addCommand(
      withSettingOptions(new Command(name))
        .description(revoked ? 'revoke a user: it can no longer log in and its login tokens stop working' : 'reinstate a revoked user and clear its failed-attempt count')
        .argument('<login>')
        .action(async (login: string, _options, command: Command) => {
          await withServices(configOf(command), ({ store }) =>
            inTransaction(store.db, async (trx) => {
              const user = await findUserByLogin(trx, login);
              if (!user) throw new ServiceError('not-found', `No user has the login "${login}".`);
              await setRevoked(trx, user, revoked, OPERATOR);
            }),
          );
          print(`${login} is ${revoked ? 'revoked' : 'active'}.`);
        }),
    );
  }
  users.addCommand(
    withSettingOptions(new Command('expire-idle'))
      .description('revoke every non-superuser idle for longer than account-expiry-days, once (the service does so every account-expiry-check-minutes)')
      .action(async (_options, command: Command) => {
        const config = configOf(command);
        if (!accountExpiryIsOn(config)) {
          throw new CliError('account-expiry-days is not set, so no account expires: set it (--account-expiry-days, RBAC_ACCOUNT_EXPIRY_DAYS or the config file)', EXIT.usage);
        }
        const expired = await withServices(config, ({ store }) => expireIdleAccounts({ db: store.db, config }, new Date(), OPERATOR));
        print(`revoked ${expired.length} account${expired.length === 1 ? '' : 's'} idle for more than ${config.accountExpiryDays} days`);
      }),
  );
  return users;
}
