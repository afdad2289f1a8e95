// The portable document (CONTRACT §16): what `rbac export` writes and
// `rbac import FILE` reads, and what `rbac import --from-pe` reads from a
// running PE into the same form. PE's API shapes (GET /users, /roles,
// /groups, /v2/ldap, /config/disclaimer) plus a format version; never a
// password hash, a token or a bind password.

import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { ServiceError } from '../errors.js';
import { DirectorySettings, Permission } from '../shapes.js';

/** The version of the document's form this service writes and reads. */
export const FORMAT_VERSION = 1;

/** A user as PE's GET /users shows it, with the keys an import uses (others PE adds are left out). */
export const PortableUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String({ minLength: 1, maxLength: 255 }),
  email: Type.String({ maxLength: 255 }),
  display_name: Type.String({ maxLength: 255 }),
  role_ids: Type.Array(Type.Integer({ minimum: 1 })),
  is_remote: Type.Boolean(),
  is_superuser: Type.Boolean(),
  is_revoked: Type.Boolean(),
  last_login: Type.Union([Type.String(), Type.Null()], { description: 'as the source last saw it; not imported' }),
  group_ids: Type.Array(Type.String(), { description: "the directory groups a remote user was in at the source's last login" }),
});
export type PortableUser = Static<typeof PortableUser>;

/** A role as PE's GET /roles shows it; its members are the users' and groups' role_ids. */
export const PortableRole = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  display_name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.String({ maxLength: 1024 }),
  permissions: Type.Array(Permission),
});
export type PortableRole = Static<typeof PortableRole>;

/** A directory group as PE's GET /groups shows it. */
export const PortableGroup = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String({ minLength: 1, maxLength: 255 }),
  display_name: Type.String({ maxLength: 255 }),
  role_ids: Type.Array(Type.Integer({ minimum: 1 })),
  identity_provider_id: Type.Union([Type.String(), Type.Null()]),
});
export type PortableGroup = Static<typeof PortableGroup>;

export const PortableDocument = Type.Object({
  format_version: Type.Literal(FORMAT_VERSION),
  /** Where the data was read: the PE service's URL, or `rbac export` and the instance's data. */
  source: Type.String({ maxLength: 1024 }),
  exported_at: Type.String(),
  users: Type.Array(PortableUser),
  roles: Type.Array(PortableRole),
  groups: Type.Array(PortableGroup),
  /** PE's GET /v2/ldap with directory_service:edit: every setting, never the bind password. */
  directories: Type.Array(DirectorySettings),
  disclaimer: Type.Union([Type.String(), Type.Null()]),
});
export type PortableDocument = Static<typeof PortableDocument>;

/** A document as read from a file: checked against the shape, the first fault named (a 4xx-like failure, nothing written). */
export function parseDocument(text: string, where: string): PortableDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ServiceError('schema-violation', `${where} is not JSON: ${(error as Error).message}`);
  }
  const version = (parsed as { format_version?: unknown } | null)?.format_version;
  if (version !== FORMAT_VERSION) {
    throw new ServiceError('schema-violation', `${where} has format_version ${JSON.stringify(version)}; this service reads format_version ${FORMAT_VERSION}.`);
  }
  if (!Value.Check(PortableDocument, parsed)) {
    const fault = [...Value.Errors(PortableDocument, parsed)][0];
    throw new ServiceError('schema-violation', `${where} is not a portable document: ${fault ? `${fault.instancePath || '/'} ${fault.message}` : 'its shape is wrong'}.`);
  }
  return parsed;
}
