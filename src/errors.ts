// The error kinds every answer uses (docs/clients.md). Domain code throws
// ServiceError with a kind; src/http/errors.ts turns it into a response and
// the CLI into a message and exit code.

export const ERROR_STATUS = {
  'malformed-request': 400,
  'schema-violation': 400,
  'invalid-uuid': 400,
  'invalid-password': 400,
  // PE's: the id in a body differs from the path's (details: url-id, body-id).
  'inconsistent-id': 400,
  // PE's: ?id= on GET /users or GET /groups holds a value that is not an id.
  'invalid-id-filter': 400,
  'user-unauthenticated': 401,
  'user-revoked': 401,
  // PE's: a password login as api_user, who authenticates only with an allowlisted certificate (CONTRACT §12).
  'api-user-login': 401,
  'permission-denied': 403,
  // A login token of a user who must change its password, anywhere but the change itself (CONTRACT §15).
  'password-change-required': 403,
  // 403 for a reset token; POST /rbac-api/v2/auth/token/authenticate answers it with 400, as PE does (ServiceError.withStatus).
  'invalid-token': 403,
  'default-roles-immutable': 403,
  // PE's: api_user cannot be edited, revoked or deleted.
  'admin-user-immutable': 403,
  'token-revoked': 403,
  'token-expired': 403,
  // A login token unused for longer than token-inactivity-timeout.
  'token-timed-out': 403,
  'not-found': 404,
  conflict: 409,
  // PE's: the login is a remote user's and a local one is asked for, or the reverse.
  'remote-user-conflict': 409,
  'request-timeout': 408,
  'request-too-large': 413,
  'unsupported-media-type': 415,
  'request-header-too-large': 431,
  'rate-limited': 429,
  'server-error': 500,
  // GET /status/v1/simple while the service cannot serve (its database does not answer).
  'service-unavailable': 503,
  // A connection test (PUT /ds/test, /command/ldap/test) that failed: the settings or the directory are at fault, not this service.
  'directory-test-failed': 400,
  // A remote login (or a group import with validate) while the directory cannot be asked.
  'directory-unavailable': 503,
} as const;

export type ErrorKind = keyof typeof ERROR_STATUS;

export class ServiceError extends Error {
  private statusOverride: number | undefined;
  /** A line for the service log only, never the answer: what the operator needs to see behind a terse refusal. */
  log: { message: string; detail: Record<string, unknown> } | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details?: unknown,
    /** Seconds, for `rate-limited`. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }

  /** The same error with another status: PE answers `invalid-token` with 400 on token introspection, 403 elsewhere. */
  withStatus(status: number): this {
    this.statusOverride = status;
    return this;
  }

  /** The same error, written to the service log (at warn) when it is answered. */
  withLog(message: string, detail: Record<string, unknown>): this {
    this.log = { message, detail };
    return this;
  }

  get status(): number {
    return this.statusOverride ?? ERROR_STATUS[this.kind];
  }
}

export const notFound = (what: string) => new ServiceError('not-found', `${what} was not found.`);
export const permissionDenied = (message = 'You do not have permission to do this.') =>
  new ServiceError('permission-denied', message);
