// Authentication of API requests: a login token in the X-Authentication
// header, or in the `token` query parameter (as PE allows).

import type { FastifyRequest } from 'fastify';
import { authenticateLoginToken, type Authenticated } from '../login/login-tokens.js';
import { ServiceError } from '../errors.js';
import type { Party } from '../audit/audit.js';
import type { Db } from '../store/transaction.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Authenticated;
  }
  interface FastifyInstance {
    /** token-inactivity-timeout, in seconds (buildApp sets it from the configuration). */
    tokenInactivityTimeoutSeconds: number | undefined;
  }
}

export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-authentication'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

const AUTHENTICATES = Symbol('requires a login token');

// The only routes a user who must change its password reaches with its login
// token (CONTRACT §15): the change itself, who it is, and logging out.
const WHILE_CHANGE_REQUIRED = new Set(['PUT /rbac-api/v1/users/current/password', 'GET /rbac-api/v1/users/current', 'DELETE /rbac-api/v1/tokens/current']);

/** The one guard of a forced password change: every other route refuses the user's token. */
function assertReachableWhileChangeRequired(request: FastifyRequest, actor: Authenticated): void {
  if (!actor.user.password_change_required || WHILE_CHANGE_REQUIRED.has(`${request.method} ${request.routeOptions.url ?? ''}`)) return;
  throw new ServiceError('password-change-required', 'This account must change its password first (an administrator asked for it, or it is older than password-maximum-age-days): PUT /rbac-api/v1/users/current/password with the current and a new one.');
}

/** An onRequest hook: runs before the body is parsed, so unauthenticated callers learn nothing about schemas. */
export function requireActor(db: Db) {
  const hook = async (request: FastifyRequest): Promise<void> => {
    const actor = await authenticateLoginToken(db, presentedToken(request), Date.now(), request.server.tokenInactivityTimeoutSeconds);
    assertReachableWhileChangeRequired(request, actor);
    request.actor = actor;
  };
  return Object.assign(hook, { [AUTHENTICATES]: true });
}

/** Whether a route's onRequest hooks include requireActor: then it answers 401 without a valid login token (the OpenAPI document says so). */
export function requiresLoginToken(onRequest: unknown): boolean {
  const hooks = Array.isArray(onRequest) ? onRequest : [onRequest];
  return hooks.some((hook) => typeof hook === 'function' && AUTHENTICATES in hook);
}

export function actorOf(request: FastifyRequest): Authenticated {
  if (!request.actor) throw new Error('route is missing the requireActor hook');
  return request.actor;
}

export function contextOf(request: FastifyRequest): { actor: Party | null; sourceAddress: string } {
  return { actor: request.actor ? { id: request.actor.id, login: request.actor.login } : null, sourceAddress: request.ip };
}
