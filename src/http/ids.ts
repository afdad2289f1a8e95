// Ids a request gives besides its path's, checked as PE checks them: the id
// filter of list routes (GET /users?id=a,b, GET /groups?id=a,b) and the id a
// PUT's body repeats. A value that is not an id is never quoted back: it may
// be anything, a token pasted by mistake included.

import { ServiceError } from '../errors.js';
import { isUuid } from '../permissions/user-ids.js';

/**
 * The ids of `?id=`, in their stored (lower-case) form, once each; undefined
 * when there is no filter. An empty filter (`?id=`) names none. A value that
 * is not an id is 400 invalid-id-filter, never ignored: a script that acts
 * on the list must not get every user because one id was mistyped.
 */
export function parseIdFilter(filter: string | undefined): string[] | undefined {
  if (filter === undefined) return undefined;
  const ids = filter.split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (!ids.every(isUuid)) throw new ServiceError('invalid-id-filter', 'The id filter must be a comma-separated list of ids (UUIDs).');
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

/**
 * PE clients PUT an object back with its id: one that differs from the
 * path's (ignoring case) is 400 inconsistent-id, naming both as PE does —
 * the body's only when it is an id at all.
 */
export function assertSameId(pathId: string | number, bodyId: string | number | undefined): void {
  if (bodyId === undefined) return;
  const same = typeof pathId === 'string' ? typeof bodyId === 'string' && bodyId.toLowerCase() === pathId : bodyId === pathId;
  if (same) return;
  const shown = typeof bodyId === 'number' || isUuid(bodyId) ? { 'body-id': bodyId } : {};
  throw new ServiceError('inconsistent-id', 'The id in the body is not the id in the path.', { 'url-id': pathId, ...shown });
}
