// What the tokens tests share: a user's login tokens as the database holds
// them, and the calls the routes take.

import assert from 'node:assert/strict';
import { hashLoginToken } from '../../src/login/login-tokens.js';
import type { TestService } from '../kit/service.js';

export const V1 = '/rbac-api/v1';
export const V2 = '/rbac-api/v2';

/** A new login token of the caller's, by POST /tokens. */
export async function newToken(service: TestService, token: string, payload: Record<string, unknown> = {}): Promise<string> {
  const response = await service.request({ method: 'POST', url: `${V1}/tokens`, token, payload });
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { token: string }).token;
}

/** The token's row. */
export function tokenRow(service: TestService, token: string) {
  return service.store.db.selectFrom('login_tokens').selectAll().where('token_hash', '=', hashLoginToken(token)).executeTakeFirstOrThrow();
}

/** Whether the token still authenticates a request. */
export async function works(service: TestService, token: string): Promise<boolean> {
  const status = (await service.request({ method: 'GET', url: `${V1}/users/current`, token })).statusCode;
  assert.ok(status === 200 || status === 401, `GET /users/current: ${status}`);
  return status === 200;
}

/** Which of these tokens still work, by name. */
export async function working(service: TestService, tokens: Record<string, string>): Promise<string[]> {
  const names: string[] = [];
  for (const [name, token] of Object.entries(tokens)) if (await works(service, token)) names.push(name);
  return names.sort();
}
