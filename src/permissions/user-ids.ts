// User and group ids are UUIDs, stored in lower case.

import { ServiceError } from '../errors.js';

import { isUuid } from '../uuids.js';

export { isUuid } from '../uuids.js';

/** A UUID in its stored (lower-case) form; anything else unchanged. */
export function normalizeUserId(text: string): string {
  return isUuid(text) ? text.toLowerCase() : text;
}

/**
 * 400 invalid-uuid, saying where the id was expected (`what`: "The user id")
 * and, after it, `note`.
 * It never quotes the value (CONTRACT §7): what a client sends where an id
 * belongs is often a login token, and an error body is no place to echo one.
 */
export function invalidUuid(what: string, note = ''): ServiceError {
  return new ServiceError('invalid-uuid', `${what} is not a UUID.${note}`);
}

/** The id in its stored (lower-case) form, or 400 invalid-uuid (invalidUuid). */
export function parseUuid(text: string, what: string): string {
  if (!isUuid(text)) throw invalidUuid(what);
  return text.toLowerCase();
}
