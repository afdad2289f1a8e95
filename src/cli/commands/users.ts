import { Command } from 'commander';
import { inTransaction } from '../../store/transaction.js';
import { accountExpiryIsOn, expireIdleAccounts } from '../../users/account-expiry.js';
import { readDirectory } from '../../directory/directories.js';
import { createUser, deleteUser, getUser, listUsers, setRevoked, unbindFromDirectory, type User } from '../../users/users.js';
import { CliError, EXIT, configOf, listCommand, print, OPERATOR, userByLogin, withServices, withSettingOptions, withUser } from '../context.js';
import { newPasswordFrom } from '../password-input.js';
import { accountStateInWords } from '../../users/account-state.js';
import { passwordExpiresAt, passwordHasExpired } from '../../passwords/password-age.js';

// The listing's state: the words of `show`, but for password age (which `show` tells).
const listedState = (user: User) => accountStateInWords({ ...user, lockout_lifts_at: user.lockout_lifts_at === null ? null : new Date(user.lockout_lifts_at) }).join('; ');
const row = (user: User) => [user.login, user.id, user.is_remote ? 'remote' : 'local', listedState(user), user.is_superuser ? 'superuser' : ''];

export function usersCommand(): Command {
  const users = new Command('users').description('list, create, revoke, reinstate, expire, unbind and delete users');

  users.addCommand(listCommand('list every user', 'as GET /users returns it', ({ store, config }) => listUsers(store.db, null, config), ['LOGIN', 'ID', 'KIND', 'STATE', ''], row));

  users.addCommand(
    withSettingOptions(new Command('show'))
      .description('print one user and its state in words: locked (until when), revoked by an administrator or by account expiry, password change required, password expired')
      .argument('<login>')
      .option('--json', 'print JSON, as GET /users/:sid answers: with its lockout state (failed_attempts, locked_at, lockout_lifts_at, revoked_by, password_change_required)')
      .action(async (login: string, options: { json?: boolean }, command: Command) => {
        const config = configOf(command);
        const { user, record } = await withUser(config, login, async (record, { store, now }) => ({ user: await getUser(store.db, record.id, config), record: { ...record, now: now() } }));
        if (options.json) return print(JSON.stringify(user, null, 2));
        const expiresAt = user.is_remote ? null : passwordExpiresAt(record.password_changed_at, config);
        const state = accountStateInWords({
          is_revoked: user.is_revoked,
          revoked_by: user.revoked_by,
          lockout_lifts_at: user.lockout_lifts_at === null ? null : new Date(user.lockout_lifts_at),
          password_change_required: user.password_change_required,
          password_expired: passwordHasExpired(record, config, record.now),
          password_expires_at: expiresAt,
        });
        const lines: [string, string][] = [
          ['login', user.login],
          ['id', user.id],
          ['kind', user.is_remote ? 'remote (its directory service checks its password)' : 'local'],
          ['superuser', user.is_superuser ? 'yes' : 'no'],
          ...state.map((words, index): [string, string] => [index === 0 ? 'state' : '', words]),
          ['failed attempts', String(user.failed_attempts)],
          ['last login', user.last_login ?? 'never'],
          ...(user.is_remote ? [] : ([['password set', record.password_changed_at?.toISOString() ?? 'no password']] as [string, string][])),
          ...(expiresAt ? ([['password expires', expiresAt.toISOString()]] as [string, string][]) : []),
        ];
        for (const [label, value] of lines) print(`${(label ? `${label}:` : '').padEnd(18)}${value}`);
      }),
  );

  users.addCommand(
    withSettingOptions(new Command('create'))
      .description('create a local user (with a password, or without one: then issue it a reset token) or a remote user, and print it as JSON, as POST /users answers')
      .argument('<login>')
      .option('--email <email>', 'email address', '')
      .option('--display-name <name>', 'name shown in consoles', '')
      .option('--remote', 'a remote user: its directory service checks its password')
      .option('--password-stdin', 'read the password from standard input')
      .option('--password <password>', 'the password (lands in shell history)')
      .option('--temporary-password', 'the user must change the password given before its login tokens reach anything else')
      .action(async (login: string, options: { email: string; displayName: string; remote?: boolean; password?: string; passwordStdin?: boolean; temporaryPassword?: boolean }, command: Command) => {
        const config = configOf(command);
        const wantsPassword = options.password !== undefined || options.passwordStdin;
        if (options.remote && wantsPassword) throw new CliError('a remote user has no password here', 2);
        if (options.temporaryPassword && !wantsPassword) throw new CliError('--temporary-password needs a password (--password-stdin or --password)', 2);
        const password = wantsPassword ? await newPasswordFrom(options) : undefined;
        const user = await withServices(config, ({ store, hasher }) =>
          createUser(
            { db: store.db, hasher, config },
            null,
            { login, email: options.email, display_name: options.displayName, is_remote: Boolean(options.remote), password, password_change_required: Boolean(options.temporaryPassword) },
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
