// UUIDs: the ids of users, groups and PE's node groups. Pure, so the
// permission catalogue can check an instance's form without the permissions
// capability (which reads the store).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}
