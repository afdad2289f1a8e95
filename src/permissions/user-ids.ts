// User ids are UUIDs, stored in lower case.

import { isUuid } from '../uuids.js';

export { isUuid } from '../uuids.js';

/** A UUID in its stored (lower-case) form; anything else unchanged. */
export function normalizeUserId(text: string): string {
  return isUuid(text) ? text.toLowerCase() : text;
}
