// `rbac keys …`: the keys that sign password reset tokens, kept in the
// database (table signing_keys), so every instance on one database sees a
// rotation at once. Safe while the service runs.
//
//   rbac keys list          every key: kid, created, retired, which one signs
//   rbac keys rotate        a new key signs from now on; the older ones still verify
//   rbac keys retire <kid>  stop using a key: it no longer signs, and the unused
//                           reset tokens it signed can no longer be used

import { Command } from 'commander';
import { configOf, print, OPERATOR, withServices, withSettingOptions } from '../context.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description('the keys that sign password reset tokens: list, rotate, retire');

  keys.addCommand(
    withSettingOptions(new Command('list'))
      .description('every signing key, newest first; the newest not retired signs')
      .option('--json', 'print JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        await withServices(configOf(command), async ({ keys }) => {
          const listed = (await keys.list()).map((key) => ({
            kid: key.kid,
            created: key.created.toISOString(),
            retired: key.retired?.toISOString() ?? null,
            signs: key.signs,
          }));
          if (options.json) return print(JSON.stringify(listed, null, 2));
          for (const key of listed) print(`${key.kid}  created ${key.created}  ${key.signs ? 'signs' : key.retired ? `retired ${key.retired}` : 'verifies'}`);
        });
      }),
  );

  keys.addCommand(
    withSettingOptions(new Command('rotate'))
      .description('add a new signing key; reset tokens signed by older keys stay valid until they expire or the key is retired')
      .action(async (_options, command: Command) => {
        await withServices(configOf(command), async ({ keys }) => {
          const kid = await keys.rotate(OPERATOR);
          // The kid first, so that a script can take it with `cut -d' ' -f1`.
          print(`${kid} signs new reset tokens from now on (every instance on this database)`);
        });
      }),
  );

  keys.addCommand(
    withSettingOptions(new Command('retire'))
      .description('retire a key: it stops signing, and the unused reset tokens it signed can no longer be used')
      .argument('<kid>', 'the key id, as `rbac keys list` prints it')
      .action(async (kid: string, _options, command: Command) => {
        await withServices(configOf(command), async ({ keys }) => {
          const cancelled = await keys.retire(kid, OPERATOR);
          print(`${kid} retired; ${cancelled} unused reset token${cancelled === 1 ? '' : 's'} it signed can no longer be used`);
        });
      }),
  );
  return keys;
}
