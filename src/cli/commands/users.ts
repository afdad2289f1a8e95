import { Command } from 'commander';
import { inTransaction } from '../../store/transaction.js';
import { accountExpiryIsOn, expireIdleAccounts } from '../../users/account-expiry.js';
import { readDirectory } from '../../directory/directories.js';
import { createUser, deleteUser, listUsers, setRevoked, unbindFromDirectory, type User } from '../../users/users.js';
import { CliError, EXIT, configOf, listCommand, print, OPERATOR, userByLogin, withServices, withSettingOptions, withUser } from '../context.js';
import { newPasswordFrom } from '../password-input.js';

const row = (user: User) => [user.login, user.id, user.is_remote ? 'remote' : 'local', user.is_revoked ? 'revoked' : 'active', user.is_superuser ? 'superuser' : ''];

export function usersCommand(): Command {
  const users = new Command('users').description('list, create, revoke, reinstate, expire, unbind and delete users');

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
    withSettingOptions(new Command('unbind'))
      .description(
        "forget the directory entry a remote user is bound to (or, with --directory, every user bound to that directory): its next directory login binds it to the entry its login finds then — for entries moved, restored or carried to a new server that the service now refuses",
      )
      .argument('[login]')
      .option('--directory <id>', 'every user bound to this directory')
      .action(async (login: string | undefined, options: { directory?: string }, command: Command) => {
        if ((login === undefined) === (options.directory === undefined)) throw new CliError('name a login, or a directory with --directory <id> (not both)', EXIT.usage);
        const unbound = await withServices(configOf(command), async ({ store }) => {
          if (options.directory !== undefined) {
            await readDirectory(store.db, null, options.directory);
            return unbindFromDirectory(store.db, { directoryId: options.directory }, OPERATOR);
          }
          const user = await userByLogin(store.db, login as string);
          const done = await unbindFromDirectory(store.db, { userId: user.id }, OPERATOR);
          if (done.length === 0) throw new CliError(`${user.login} is not bound to a directory entry.`);
          return done;
        });
        for (const user of unbound) print(`${user.login} is no longer bound to ${user.directory_dn ?? 'its directory entry'}.`);
        if (options.directory !== undefined) print(`unbound ${unbound.length} user${unbound.length === 1 ? '' : 's'}; each is bound again at its next directory login`);
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
