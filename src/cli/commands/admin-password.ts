import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { passwordFailures, type RuleFailure } from '../../passwords/policy.js';
import { newPasswordFailures } from '../../passwords/previous-passwords.js';
import { bootstrapAdmin } from '../../users/bootstrap.js';
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
      // At the prompt every rule is checked right after the first entry, as the
      // reset will check it, so a refused password is asked again, not refused after the repeat.
      const password = await newPasswordFrom(options, async (entry) => (await adminPasswordFailures(config, entry)).map((failure) => failure['friendly-error']));
      const { created } = await withServices(config, ({ store, hasher }) =>
        resetAdminPassword({ db: store.db, hasher, rules: config }, password, {
          operator: safeUserName(),
        }),
      );
      print(created ? 'The superuser "admin" was created with the new password.' : 'The password of "admin" was reset; the account is active and its old login tokens are revoked.');
    });
}

/**
 * What the reset would refuse `password` for: the rules the password alone
 * decides, then the admin's history. The store is opened for the history
 * check only, so nothing holds the process while the prompt waits (Ctrl-D
 * there ends it).
 */
async function adminPasswordFailures(config: Config, password: string): Promise<RuleFailure[]> {
  const failures = passwordFailures(password, config, BOOTSTRAP_ADMIN_LOGIN);
  if (failures.length > 0) return failures;
  return withServices(config, async ({ store, hasher }) => {
    const admin = await bootstrapAdmin(store.db);
    return admin ? newPasswordFailures({ db: store.db, hasher, config }, admin, password) : [];
  });
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
