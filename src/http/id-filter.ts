// PE's id filter on list routes (GET /users?id=a,b, GET /groups?id=a,b):
// the ids named, in their stored (lower-case) form. A value that is not an id
// is 400 invalid-id-filter, never ignored: a script that acts on the list
// must not get every user because one id was mistyped. The value is not
// quoted back: it may be anything, a token pasted by mistake included.

import { ServiceError } from '../errors.js';
import { isUuid } from '../permissions/user-ids.js';

/** The ids of `?id=`, once each; undefined when there is no filter. An empty filter (`?id=`) names none. */
export function parseIdFilter(filter: string | undefined): string[] | undefined {
  if (filter === undefined) return undefined;
  const ids = filter.split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (!ids.every(isUuid)) throw new ServiceError('invalid-id-filter', 'The id filter must be a comma-separated list of ids (UUIDs).');
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}
