import { Command } from 'commander';
import { issueResetToken } from '../../password-reset/issue-reset-token.js';
import { resetPageUrl } from '../../http/routes/reset-page.js';
import { serviceUrl } from '../../server.js';
import { configOf, print, warn, withSettingOptions, withUser } from '../context.js';

export function resetTokenCommand(): Command {
  // The link's address comes from public-url, or from the service's own host, port and insecure-http, as it announces them.
  return withSettingOptions(new Command('reset-token'), ['public-url', 'host', 'port', 'insecure-http'], {
    'public-url': "base URL users reach the service at: the reset link's address",
    host: "the service's host setting: the link's host without public-url",
    port: "the service's port setting: the link's port without public-url",
    'insecure-http': 'the service serves plain HTTP: an http:// link without public-url',
  })
    .description('issue a single-use password reset token for a local user, exactly as POST /users/:sid/password/reset does, and print it')
    .argument('<login>')
    .option('--url', 'print the reset page link (token included) instead of the bare token')
    .action(async (login: string, options: { url?: boolean }, command: Command) => {
      const config = configOf(command);
      const token = await withUser(config, login, async (user, { store, keys }) => {
        await keys.ensureKey();
        return issueResetToken({ db: store.db, keys, config }, null, user.id, { actor: null, sourceAddress: 'cli' });
      });
      const link = resetPageUrl(config.publicUrl ?? serviceUrl(config, config.port), token);
      if (options.url) {
        print(link);
      } else {
        print(token);
        warn(`Reset page: ${link}`);
      }
    });
}
