// `rbac tokens …`: a user's login tokens for the operator at the server,
// through the same domain functions as GET /users/:sid/tokens and DELETE
// /rbac-api/v2/tokens. Never prints a token: only its metadata.
//
//   rbac tokens list <login> [--json]   the user's live tokens
//   rbac tokens revoke <login>          revoke every login token of the user

import { Command } from 'commander';
import { revokeTokens } from '../../tokens/revoke-tokens.js';
import { listTokens, type ListedToken } from '../../tokens/tokens.js';
import { configOf, print, printListing, OPERATOR, withSettingOptions, withUser } from '../context.js';

const HEADER = ['ID', 'CREATED', 'EXPIRES', 'LAST ACTIVE', 'LABEL', 'CLIENT'];
const row = (token: ListedToken) => [token.id, token.creation_date, token.expiration_date ?? 'never', token.last_active_date, token.label ?? '', token.client ?? ''];

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description("a user's login tokens: list them, revoke them");

  tokens.addCommand(
    withSettingOptions(new Command('list'))
      .description("the user's live login tokens (neither revoked nor expired), oldest first: their metadata, never the tokens")
      .argument('<login>')
      .option('--json', 'print JSON, as the items of GET /users/:sid/tokens')
      .action(async (login: string, options: { json?: boolean }, command: Command) => {
        const { items } = await withUser(configOf(command), login, (user, { store }) =>
          listTokens(store.db, null, user.id, { offset: 0, order_by: 'creation_date', order: 'asc' }),
        );
        printListing(options.json, items, HEADER, row);
      }),
  );

  tokens.addCommand(
    withSettingOptions(new Command('revoke'))
      .description('revoke every login token of the user (it stays able to log in again); prints how many')
      .argument('<login>')
      .action(async (login: string, _options, command: Command) => {
        const count = await withUser(configOf(command), login, (user, { store }) => {
          // A user's id in revoke_tokens_by_ids names every token of that user.
          const request = { revoke_tokens: [], revoke_tokens_by_usernames: [], revoke_tokens_by_labels: [], revoke_tokens_by_ids: [user.id] };
          return revokeTokens(store.db, null, request, OPERATOR.sourceAddress, Date.now(), 'rbac tokens revoke');
        });
        print(`${count} login token${count === 1 ? '' : 's'} of ${login} revoked.`);
      }),
  );
  return tokens;
}
