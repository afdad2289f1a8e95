// User ids are UUIDs, stored in lower case.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** A UUID in its stored (lower-case) form; anything else unchanged. */
export function normalizeUserId(text: string): string {
  return isUuid(text) ? text.toLowerCase() : text;
}
