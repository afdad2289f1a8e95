// `rbac allowlist add|remove|list`: edits the certificate allowlist file
// (CONTRACT §12) that the service re-reads when it changes, found from the
// same settings the service reads (certificate-allowlist). No database.

import { Command } from 'commander';
import { editAllowlistFile, isCertname, readAllowlistFile } from '../../tls/allowlist.js';
import { CliError, EXIT, configOf, print, warn, withSettingOptions } from '../context.js';

/** The allowlist file the settings name; a usage error when they name none. */
function allowlistFile(command: Command): string {
  const file = configOf(command).certificateAllowlist;
  if (file === undefined) throw new CliError('certificate-allowlist is not set: give --certificate-allowlist FILE, RBAC_CERTIFICATE_ALLOWLIST or the key in --config.', EXIT.usage);
  return file;
}

function certnameArgument(certname: string): string {
  if (!isCertname(certname)) throw new CliError(`"${certname}" is not a certname: letters, digits, dots, dashes and underscores only.`, EXIT.usage);
  return certname.toLowerCase();
}

function editCommand(edit: 'add' | 'remove'): Command {
  return withSettingOptions(new Command(edit), ['certificate-allowlist'])
    .argument('<certname>', edit === 'add' ? 'the certname to allow' : 'the certname to remove')
    .description(edit === 'add' ? 'allow a certname: its verified client certificate acts as api_user' : 'remove a certname from the allowlist')
    .action(async (certname: string, _options, command: Command) => {
      const name = certnameArgument(certname);
      const file = allowlistFile(command);
      const changed = await editAllowlistFile(file, name, edit);
      if (changed) warn(`${edit === 'add' ? 'added' : 'removed'} ${name} ${edit === 'add' ? 'to' : 'from'} ${file}`);
      else warn(`${name} was ${edit === 'add' ? 'already' : 'not'} on ${file}; nothing changed`);
    });
}

export function allowlistCommand(): Command {
  const allowlist = new Command('allowlist').description("edit the certificate allowlist (PE's rbac-certificate-allowlist): certnames whose client certificates act as api_user");
  allowlist.addCommand(editCommand('add'));
  allowlist.addCommand(editCommand('remove'));
  allowlist.addCommand(
    withSettingOptions(new Command('list'), ['certificate-allowlist'])
      .description('print the certnames on the allowlist, one a line')
      .action(async (_options, command: Command) => {
        for (const name of await readAllowlistFile(allowlistFile(command))) print(name);
      }),
  );
  return allowlist;
}
