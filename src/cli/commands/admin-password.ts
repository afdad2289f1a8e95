import { userInfo } from 'node:os';
import { Command } from 'commander';
import { passwordFailures } from '../../passwords/policy.js';
import { resetAdminPassword } from '../../users/admin-password.js';
import { BOOTSTRAP_ADMIN_LOGIN } from '../../users/users.js';
import { configOf, print, withServices, withSettingOptions } from '../context.js';
import { newPasswordFrom } from '../password-input.js';

export function resetAdminPasswordCommand(): Command {
  return withSettingOptions(new Command('reset-admin-password'))
    .description(
      'set the password of the superuser "admin", reinstate it (clear revoked and failed attempts) and revoke its login tokens; ' +
        'works whether or not the service is running',
    )
    .option('--password-stdin', 'read the new password from standard input')
    .option('--password <password>', 'the new password (lands in shell history: prefer the prompt or --password-stdin)')
    .action(async (options: { password?: string; passwordStdin?: boolean }, command: Command) => {
      const config = configOf(command);
      // At the prompt, the rules a password alone decides are checked right after
      // the first entry; the history (earlier passwords) is checked with the store.
      const password = await newPasswordFrom(options, (entry) => passwordFailures(entry, config, BOOTSTRAP_ADMIN_LOGIN).map((failure) => failure['friendly-error']));
      const { created } = await withServices(config, ({ store, hasher }) =>
        resetAdminPassword({ db: store.db, hasher, rules: config }, password, {
          operator: safeUserName(),
        }),
      );
      print(created ? 'The superuser "admin" was created with the new password.' : 'The password of "admin" was reset; the account is active and its old login tokens are revoked.');
    });
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
