// `rbac keys …`: the keys that sign password reset tokens, kept in the
// database (table signing_keys), so every instance on one database sees a
// rotation at once. Safe while the service runs.
//
//   rbac keys list          every key: kid, created, retired, which one signs
//   rbac keys rotate        a new key signs from now on; the older ones still verify
//   rbac keys retire <kid>  stop using a key: it no longer signs, and the unused
//                           reset tokens it signed can no longer be used

import { Command } from 'commander';
import { SigningKeyRing } from '../../reset-tokens/signing-keys.js';
import { configOf, print, warn, OPERATOR, withSettingOptions, withStore } from '../context.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description('the keys that sign password reset tokens: list, rotate, retire');

  keys.addCommand(
    withSettingOptions(new Command('list'))
      .description('every signing key, newest first; the newest not retired signs')
      .option('--json', 'print JSON')
      .action(async (options: { json?: boolean }, command: Command) => {
        await withStore(configOf(command), async (store) => {
          const rows = await store.db.selectFrom('signing_keys').select(['kid', 'created_at', 'retired_at']).orderBy('created_at', 'desc').orderBy('kid').execute();
          const signing = rows.find((row) => row.retired_at === null)?.kid;
          const listed = rows.map((row) => ({
            kid: row.kid,
            created: new Date(Number(row.created_at)).toISOString(),
            retired: row.retired_at === null ? null : new Date(Number(row.retired_at)).toISOString(),
            signs: row.kid === signing,
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
        await withStore(configOf(command), async (store) => {
          const kid = await new SigningKeyRing(store.db).rotate(OPERATOR);
          print(kid);
          warn(`rbac: ${kid} signs new reset tokens from now on (every instance on this database)`);
        });
      }),
  );

  keys.addCommand(
    withSettingOptions(new Command('retire'))
      .description('retire a key: it stops signing, and the unused reset tokens it signed can no longer be used')
      .argument('<kid>', 'the key id, as `rbac keys list` prints it')
      .action(async (kid: string, _options, command: Command) => {
        await withStore(configOf(command), async (store) => {
          const cancelled = await new SigningKeyRing(store.db).retire(kid, OPERATOR);
          warn(`rbac: ${kid} retired; ${cancelled} unused reset token${cancelled === 1 ? '' : 's'} it signed can no longer be used`);
        });
      }),
  );
  return keys;
}
