// Authentication of API requests: a login token in the X-Authentication
// header, or in the `token` query parameter (as PE allows), or a client
// certificate on the certificate allowlist, which acts as api_user
// (CONTRACT §12). authenticate() is the one place that decides which.

import type { FastifyRequest } from 'fastify';
import { authenticateLoginToken, type Authenticated } from '../login/login-tokens.js';
import { ServiceError } from '../errors.js';
import type { Party } from '../audit/audit.js';
import type { Db } from '../store/transaction.js';
import type { CertificateAllowlist } from '../tls/allowlist.js';
import { verifiedCertnames } from '../tls/client-certificates.js';
import { apiUserActor } from '../login/certificate-actor.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Authenticated;
  }
  interface FastifyInstance {
    /** token-inactivity-timeout, in seconds (buildApp sets it from the configuration). */
    tokenInactivityTimeoutSeconds: number | undefined;
    /** certificate-allowlist, when client certificates are asked for (buildApp sets it). */
    certificateAllowlist: CertificateAllowlist | undefined;
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

/** The allowlisted certname of the request's verified client certificate, if it has one. */
async function allowlistedCertname(request: FastifyRequest): Promise<string | undefined> {
  const allowlist = request.server.certificateAllowlist;
  if (!allowlist) return undefined;
  const candidates = verifiedCertnames(request.raw.socket);
  return candidates.length === 0 ? undefined : allowlist.allowed(candidates);
}

export interface ActorRules {
  /** false where a certificate does not authenticate (POST /tokens: api_user gets no login tokens, as in PE). */
  certificates: boolean;
}

/**
 * Who the request acts as. A login token, when one is sent, decides — a
 * service holding an allowlisted certificate (PE's console) may forward its
 * user's token, and then acts as that user. Without a token, a verified client
 * certificate on the allowlist acts as api_user. Anything else is no
 * credentials: 401.
 */
async function authenticate(db: Db, request: FastifyRequest, rules: ActorRules): Promise<Authenticated> {
  const token = presentedToken(request);
  const now = Date.now();
  if (token !== undefined) return authenticateLoginToken(db, token, now, request.server.tokenInactivityTimeoutSeconds);
  const certname = await allowlistedCertname(request);
  if (certname !== undefined && !rules.certificates) {
    throw new ServiceError('user-unauthenticated', `A client certificate cannot be exchanged for a login token (${request.method} ${request.routeOptions.url ?? ''}): send a login token in the X-Authentication header.`);
  }
  const actor = certname === undefined ? undefined : await apiUserActor(db, certname);
  return actor ?? authenticateLoginToken(db, undefined, now);
}

/** An onRequest hook: runs before the body is parsed, so unauthenticated callers learn nothing about schemas. */
export function requireActor(db: Db, rules: ActorRules = { certificates: true }) {
  const hook = async (request: FastifyRequest): Promise<void> => {
    const actor = await authenticate(db, request, rules);
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
  const actor = request.actor;
  return { actor: actor ? { id: actor.id, login: actor.login, ...(actor.certname ? { certname: actor.certname } : {}) } : null, sourceAddress: request.ip };
}
