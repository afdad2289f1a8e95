import { Command } from 'commander';
import { ServiceError } from '../../errors.js';
import { issueResetToken } from '../../reset-tokens/issue-reset-token.js';
import { SigningKeyRing } from '../../reset-tokens/signing-keys.js';
import { findUserRowByLogin } from '../../users/users.js';
import { configOf, print, withSettingOptions, withStore } from '../context.js';

export function resetTokenCommand(): Command {
  return withSettingOptions(new Command('reset-token'))
    .description('issue a single-use password reset token for a local user, exactly as POST /users/:sid/password/reset does, and print it')
    .argument('<login>')
    .action(async (login: string, _options, command: Command) => {
      const config = configOf(command);
      const token = await withStore(config, async (store) => {
        const user = await findUserRowByLogin(store.db, login);
        if (!user) throw new ServiceError('not-found', `No user has the login "${login}".`);
        const keys = new SigningKeyRing(store.db);
        await keys.ensureKey();
        return issueResetToken({ db: store.db, keys, config }, user.id, { actor: null, sourceAddress: 'cli' });
      });
      print(token);
    });
}
