import { Command } from 'commander';
import { inTransaction } from '../../store/transaction.js';
import { accountExpiryIsOn, expireIdleAccounts } from '../../users/account-expiry.js';
import { createUser, deleteUser, listUsers, setRevoked, type User } from '../../users/users.js';
import { CliError, EXIT, configOf, listCommand, print, OPERATOR, userByLogin, withServices, withSettingOptions, withUser } from '../context.js';
import { newPasswordFrom } from '../password-input.js';

const row = (user: User) => [user.login, user.id, user.is_remote ? 'remote' : 'local', user.is_revoked ? 'revoked' : 'active', user.is_superuser ? 'superuser' : ''];

export function usersCommand(): Command {
  const users = new Command('users').description('list, create, revoke, reinstate, expire and delete users');

  users.addCommand(listCommand('list every user', 'as GET /users returns it', ({ store }) => listUsers(store.db, null), ['LOGIN', 'ID', 'KIND', 'STATE', ''], row));

  users.addCommand(
    withSettingOptions(new Command('create'))
      .description('create a local user (with a password, or without one: then issue it a reset token) or a remote user, and print it as JSON, as POST /users answers')
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
        print(JSON.stringify(user, null, 2));
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
              await setRevoked(trx, await userByLogin(trx, login), revoked, OPERATOR);
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

  users.addCommand(
    withSettingOptions(new Command('delete'))
      .description('delete a user, as DELETE /users/:sid does: its roles and login tokens go with it; never admin')
      .argument('<login>')
      .action(async (login: string, _options, command: Command) => {
        const id = await withUser(configOf(command), login, async (user, { store }) => {
          await deleteUser(store.db, null, user.id, OPERATOR);
          return user.id;
        });
        print(`${login} (${id}) is deleted.`);
      }),
  );
  return users;
}
