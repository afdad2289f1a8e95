// Request and response shapes. One TypeBox declaration gives Fastify's
// validation, the OpenAPI document, and the TypeScript types the domain
// returns (Static<>), so a wire shape is written once.

import { Type, type Static, type TProperties, type TSchema } from 'typebox';

// Examples: one per shape a request sends or an answer returns (`examples` on
// the shape; the OpenAPI document and the reference page show them). They
// tell one story: alice, role 2 "Helpdesk", admin's login token.
const ALICE_ID = '5e7f1c2a-8b4d-4f6e-9a1b-2c3d4e5f6a7b';
const HELPDESK_PERMISSION = { object_type: 'users', action: 'reset_password', instance: '*' };
const EXAMPLE_TOKEN = '0VZZ8IHCxzVnUZdXnqoYtDmGvqwV1ezOqN0fE38W1QaA';
const EXAMPLE_RESET_TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiI1ZTdmMWMyYSJ9.c2lnbmF0dXJl';
const EXAMPLE_TIME = '2026-12-02T09:30:00.000Z';

export const ErrorBody = Type.Object(
  {
    kind: Type.String({ description: 'machine-readable error kind, e.g. schema-violation' }),
    msg: Type.String({ description: 'human-readable explanation' }),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'Error', examples: [{ kind: 'not-found', msg: 'No user has the id 5e7f1c2a-8b4d-4f6e-9a1b-2c3d4e5f6a7b.' }] },
);

export const Uuid = Type.String({ description: 'a user id (UUID)' });

/**
 * A list route's query: exactly these parameters and `token` (PE's login
 * token in the URL); any other is 400 schema-violation, never ignored, so a
 * filter the route does not have cannot quietly answer every object
 * (docs/decisions.md, "List routes refuse parameters they do not know").
 */
export const ListQuery = <P extends TProperties>(properties: P) =>
  Type.Object({ ...properties, token: Type.Optional(Type.String({ description: 'a login token, as PE accepts it in the URL' })) }, { additionalProperties: false });

export const SidParams = Type.Object({ sid: Uuid }, { additionalProperties: false });

const USER_EXAMPLE = {
  id: ALICE_ID,
  login: 'alice',
  email: 'alice@example.com',
  display_name: 'Alice',
  role_ids: [2],
  is_group: false,
  is_remote: false,
  is_superuser: false,
  is_revoked: false,
  last_login: EXAMPLE_TIME,
  inherited_role_ids: [],
  group_ids: [],
  failed_attempts: 0,
  locked_at: null,
  lockout_lifts_at: null,
  revoked_by: null,
  password_change_required: false,
};

// Beyond PE (CONTRACT §15): the account's lockout state, read-only, and the
// forced password change. Extra keys only: PE's keys keep their meaning.
const accountState = {
  failed_attempts: Type.Integer({ description: 'failed password checks since the last successful one' }),
  locked_at: Type.Union([Type.String(), Type.Null()], { description: 'when failed logins revoked the user; null otherwise' }),
  lockout_lifts_at: Type.Union([Type.String(), Type.Null()], { description: 'when failed-attempts-lockout-duration lifts the lockout; null when nothing will' }),
  revoked_by: Type.Union([Type.Literal('lockout'), Type.Literal('administrator'), Type.Literal('expiry'), Type.Null()], { description: 'what revoked the user; null when not revoked' }),
  password_change_required: Type.Boolean({ description: "the user's login tokens reach only the password change until it changes its password" }),
};

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    login: Type.String(),
    email: Type.String(),
    display_name: Type.String(),
    role_ids: Type.Array(Type.Integer()),
    is_group: Type.Boolean(),
    is_remote: Type.Boolean(),
    is_superuser: Type.Boolean(),
    is_revoked: Type.Boolean(),
    last_login: Type.Union([Type.String(), Type.Null()]),
    inherited_role_ids: Type.Array(Type.Integer(), { description: "roles a remote user has through their directory groups (as of their last login); [] for local users" }),
    group_ids: Type.Array(Type.String(), { description: 'the imported directory groups a remote user was in at their last login' }),
    ...accountState,
  },
  { examples: [USER_EXAMPLE] },
);
/** A user as the API shows it: never a password or hash. */
export type User = Static<typeof User>;
/** GET /users. */
export const Users = Type.Array(User, { examples: [[USER_EXAMPLE]] });

/** A user as GET /v2/users lists it: role_ids only with include_roles=true. */
export const ListedUser = Type.Object({ ...User.properties, role_ids: Type.Optional(Type.Array(Type.Integer())) });
export type ListedUser = Static<typeof ListedUser>;

/** What GET /v2/users may sort by, in PE's words. */
export const USER_ORDERINGS = ['login', 'email', 'display_name', 'last_login', 'id', 'creation_date'] as const;
export type UserOrdering = (typeof USER_ORDERINGS)[number];

/** The most users one page of GET /v2/users holds; a larger limit is lowered to it. */
export const MAX_USERS_PAGE = 1000;
// PE's documents write string values in double quotes (order="desc"): both spellings are taken.
const quotable = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Union(values.flatMap((value) => [Type.Literal(value), Type.Literal(`"${value}"`)]), { description });

export const UsersPageQuery = ListQuery(
  {
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'users to skip, default 0' })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,8}$', description: `users in the page, default 500, at most ${MAX_USERS_PAGE}` })),
    order: Type.Optional(quotable(['asc', 'desc'], 'default asc')),
    order_by: Type.Optional(quotable(USER_ORDERINGS, 'default id')),
    filter: Type.Optional(Type.String({ maxLength: 257, description: 'a case-insensitive substring of login, email or display name' })),
    include_roles: Type.Optional(quotable(['true', 'false'], 'role_ids in each user; default false')),
  },
);

export const UsersPage = Type.Object(
  {
    users: Type.Array(ListedUser),
    pagination: Type.Object({
      offset: Type.Integer(),
      limit: Type.Integer(),
      order: Type.String(),
      order_by: Type.String(),
      filter: Type.Optional(Type.String()),
      total: Type.Integer(),
    }),
  },
  { examples: [{ users: [USER_EXAMPLE], pagination: { offset: 0, limit: 500, order: 'asc', order_by: 'login', filter: 'ali', total: 1 } }] },
);

// Role ids are the database's 32-bit integer keys: a larger number names no role, and must be refused as such rather than reach the column.
export const RoleId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

// --- Lists a request carries (CONTRACT §7). Every list a client sends is
// bounded, so no request makes the service work through an unbounded one:
// a list holds at most MAX_LIST_ITEMS entries, and each kind of list is
// declared once, here.

/** The most entries one list of a request holds: ids, permissions, names. */
export const MAX_LIST_ITEMS = 1000;
/** The most permissions one role holds (the rule: src/roles/roles.ts, assertRoleSize). */
export const MAX_ROLE_PERMISSIONS = 1000;
/**
 * The body limit of routes whose bodies carry lists at their bounds: PUT
 * /roles/:rid with 1,000 permissions naming users, 1,000 user ids and
 * 1,000 group ids is about 180 KB. Every other body keeps the service's
 * 64 KiB (src/http/app.ts).
 */
export const LIST_BODY_LIMIT = 256 * 1024;
/** A comma-separated list in a query parameter: at most MAX_LIST_ITEMS entries (src/http/errors.ts words its refusal). */
export const COMMA_LIST_PATTERN = `^[^,]*(,[^,]*){0,${MAX_LIST_ITEMS - 1}}$`;

// Sent as null, a list of a body is the empty list (PE's Go client sends every empty list so): src/http/null-lists.ts makes it [] before validation.
const NULL_IS_EMPTY = 'null is the empty list';
const ListOf = <T extends TSchema>(item: T, description?: string) =>
  Type.Array(item, { maxItems: MAX_LIST_ITEMS, description: description === undefined ? NULL_IS_EMPTY : `${description}; ${NULL_IS_EMPTY}` });
const CommaList = (description: string, maxLength: number) =>
  Type.String({ maxLength, pattern: COMMA_LIST_PATTERN, description: `${description}, comma-separated, at most ${MAX_LIST_ITEMS}` });

export const RoleIds = ListOf(RoleId);
export const UserIds = ListOf(Type.String({ maxLength: 64 }));
export const GroupIds = ListOf(Type.String({ maxLength: 64 }), 'ids of imported directory groups');

export const Permission = Type.Object(
  {
    object_type: Type.String({ maxLength: 64 }),
    action: Type.String({ maxLength: 64 }),
    instance: Type.String({
      maxLength: 64,
      description: '"*", or the id of one object where the action can name one (GET /types, has_instances): a user id (users), a role id (user_roles), a group id (user_groups), a node group id (node_groups), an environment name (environment), …',
    }),
  },
  { additionalProperties: false },
);
export type Permission = Static<typeof Permission>;
export const Permissions = ListOf(Permission);

/** GET /users and GET /groups: PE's `id` filter. */
export const IdFilterQuery = ListQuery({
  id: Type.Optional(CommaList('ids (UUIDs): only those are answered, unknown ids left out; a value that is not an id is 400 invalid-id-filter', 40_000)),
});


const ShortText = (description: string) => Type.String({ maxLength: 255, description });
// Passwords are bounded here only to keep bodies small; the policy says why a password is refused.
export const PasswordText = Type.String({ maxLength: 4096 });

export const NewUserBody = Type.Object(
  {
    login: Type.String({ minLength: 1, maxLength: 255 }),
    email: Type.Optional(ShortText('email address')),
    display_name: Type.Optional(ShortText('name shown in consoles')),
    role_ids: Type.Optional(RoleIds),
    // null: a local user without a password (PE's client always sends the key).
    password: Type.Optional(Type.Union([PasswordText, Type.Null()])),
    is_remote: Type.Optional(Type.Boolean()),
    // Accepted so that a user fetched with GET can be posted back; must be false.
    is_group: Type.Optional(Type.Literal(false)),
    // Beyond PE: with a password, the user must change it before its tokens reach anything else.
    password_change_required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ login: 'alice', email: 'alice@example.com', display_name: 'Alice', role_ids: [2], password: 'a long enough passphrase' }] },
);
export type NewUserBody = Static<typeof NewUserBody>;

// PE clients GET a user, change fields, and PUT the whole object back, so
// read-only fields are accepted (and ignored) alongside the editable ones.
export const EditUserBody = Type.Object(
  {
    id: Type.Optional(Type.String()),
    login: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    email: Type.Optional(ShortText('email address')),
    display_name: Type.Optional(ShortText('name shown in consoles')),
    role_ids: Type.Optional(RoleIds),
    is_revoked: Type.Optional(Type.Boolean()),
    is_group: Type.Optional(Type.Boolean()),
    is_remote: Type.Optional(Type.Boolean()),
    is_superuser: Type.Optional(Type.Boolean()),
    last_login: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    inherited_role_ids: Type.Optional(ListOf(Type.Integer())),
    group_ids: Type.Optional(GroupIds),
    // The account state GET shows, read-only and ignored; password_change_required is editable.
    failed_attempts: Type.Optional(Type.Integer()),
    locked_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    lockout_lifts_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    revoked_by: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    password_change_required: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ ...USER_EXAMPLE, email: 'alice@example.org', is_revoked: false }] },
);
export type EditUserBody = Static<typeof EditUserBody>;

/** POST /command/users/revoke and reinstate. */
export const UserIdBody = Type.Object(
  { user_id: Type.String({ maxLength: 64, description: 'a user id (UUID)' }) },
  { additionalProperties: false, examples: [{ user_id: ALICE_ID }] },
);

const ROLE_EXAMPLE = { id: 2, display_name: 'Helpdesk', description: 'Resets passwords', permissions: [HELPDESK_PERMISSION], user_ids: [ALICE_ID], group_ids: [] };

export const Role = Type.Object(
  {
    id: Type.Integer(),
    display_name: Type.String(),
    description: Type.String(),
    permissions: Type.Array(Permission),
    user_ids: Type.Array(Type.String()),
    group_ids: Type.Array(Type.String()),
  },
  { examples: [ROLE_EXAMPLE] },
);
export type Role = Static<typeof Role>;
/** GET /roles. */
export const Roles = Type.Array(Role, { examples: [[ROLE_EXAMPLE]] });

export const NewRoleBody = Type.Object(
  {
    display_name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    permissions: Type.Optional(Permissions),
    user_ids: Type.Optional(UserIds),
    group_ids: Type.Optional(GroupIds),
  },
  { additionalProperties: false, examples: [{ display_name: 'Helpdesk', description: 'Resets passwords', permissions: [HELPDESK_PERMISSION], user_ids: [ALICE_ID] }] },
);
export type NewRoleBody = Static<typeof NewRoleBody>;

export const RoleParams = Type.Object({ rid: Type.String({ pattern: '^[0-9]{1,9}$' }) }, { additionalProperties: false });

// PE clients GET a role, change it, and PUT the whole object back: id and
// id must match the path; group_ids become the groups that have the role.
export const EditRoleBody = Type.Object(
  { id: Type.Optional(RoleId), ...Type.Partial(NewRoleBody).properties },
  { additionalProperties: false, examples: [{ ...ROLE_EXAMPLE, description: 'Resets passwords of every user' }] },
);
export type EditRoleBody = Static<typeof EditRoleBody>;

export const RoleUsersBody = Type.Object({ role_id: RoleId, user_ids: UserIds }, { additionalProperties: false, examples: [{ role_id: 2, user_ids: [ALICE_ID] }] });
export const RoleGroupsBody = Type.Object(
  { role_id: RoleId, group_ids: GroupIds },
  { additionalProperties: false, examples: [{ role_id: 2, group_ids: [] }] },
);
export const RolePermissionsBody = Type.Object({ role_id: RoleId, permissions: Permissions }, { additionalProperties: false, examples: [{ role_id: 2, permissions: [HELPDESK_PERMISSION] }] });
export const UserRolesBody = Type.Object(
  { user_id: Type.String({ maxLength: 64, description: 'a user id (UUID)' }), role_ids: RoleIds },
  { additionalProperties: false, examples: [{ user_id: ALICE_ID, role_ids: [2] }] },
);

/** POST /permitted: PE's `token` is the id (UUID) of the user or group asked about, not a login token. */
export const PermittedBody = Type.Object(
  { token: Type.String({ maxLength: 64, description: 'the id (UUID) of the user, or the group, asked about' }), permissions: Permissions },
  { additionalProperties: false, examples: [{ token: ALICE_ID, permissions: [HELPDESK_PERMISSION, { object_type: 'users', action: 'disable', instance: '*' }] }] },
);
/** POST /permitted's answer: one boolean per permission asked about, in order. */
export const PermittedAnswer = Type.Array(Type.Boolean(), { examples: [[true, false]] });
/** GET /permitted/…: the instances the user may act on. */
export const Instances = Type.Array(Type.String(), { description: '["*"] for every instance, else the ids', examples: [['*']] });
export const PermittedParams = Type.Object({ object_type: Type.String({ maxLength: 64 }), action: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export const PermittedUserParams = Type.Object({ ...PermittedParams.properties, uuid: Uuid }, { additionalProperties: false });

/** What a login token may carry, in POST /auth/token and POST /tokens. */
const tokenFacts = {
  lifetime: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })])),
  label: Type.Optional(ShortText('a name for the token')),
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  client: Type.Optional(ShortText('the client that asked for the token')),
};

export const LoginBody = Type.Object(
  {
    login: Type.String({ maxLength: 255 }),
    password: PasswordText,
    ...tokenFacts,
  },
  { additionalProperties: false, examples: [{ login: 'admin', password: 'the admin password', lifetime: '4h', label: 'laptop' }] },
);
export type LoginBody = Static<typeof LoginBody>;

/** POST /tokens: POST /auth/token's body without login and password. */
export const NewTokenBody = Type.Object(tokenFacts, { additionalProperties: false, examples: [{ lifetime: '30d', label: 'ci', client: 'pipeline' }] });

export const TokenResponse = Type.Object({ token: Type.String() }, { examples: [{ token: EXAMPLE_TOKEN }] });

const Time = Type.String({ description: 'ISO-8601, UTC' });
const OptionalText = Type.Union([Type.String(), Type.Null()]);

/** A login token as GET /users/:sid/tokens lists it (PE's keys): never the token or its hash. */
export const ListedToken = Type.Object({
  id: Type.String({ description: "the token's public id, for revoke_tokens_by_ids" }),
  creation_date: Time,
  expiration_date: Type.Union([Time, Type.Null()], { description: 'null: never expires' }),
  last_active_date: Time,
  label: OptionalText,
  description: OptionalText,
  client: OptionalText,
});

export const TokenListQuery = ListQuery(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'at most this many; all when omitted' })),
    offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'tokens to skip, default 0' })),
    order_by: Type.Optional(Type.Union([Type.Literal('creation_date'), Type.Literal('expiration_date'), Type.Literal('last_active_date'), Type.Literal('client')])),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  },
);

export const TokenList = Type.Object(
  {
    items: Type.Array(ListedToken),
    pagination: Type.Object({
      limit: Type.Union([Type.Integer(), Type.Null()]),
      offset: Type.Integer(),
      order_by: Type.String(),
      order: Type.String(),
      total: Type.Integer(),
    }),
  },
  {
    examples: [
      {
        items: [
          {
            id: '8f14e45f-ceea-467f-a0e6-3a7b1c2d4e5f',
            creation_date: EXAMPLE_TIME,
            expiration_date: '2026-12-02T13:30:00.000Z',
            last_active_date: EXAMPLE_TIME,
            label: 'laptop',
            description: null,
            client: null,
          },
        ],
        pagination: { limit: null, offset: 0, order_by: 'creation_date', order: 'asc', total: 1 },
      },
    ],
  },
);

// DELETE /rbac-api/v2/tokens: each parameter comma-separated in the query, an array in the body.
const NameList = (description: string) => Type.Optional(ListOf(Type.String({ maxLength: 1024 }), description));
const NameListText = (description: string) => Type.Optional(CommaList(description, 16384));
const REVOCATION_DESCRIPTIONS = {
  revoke_tokens: 'whole login tokens',
  revoke_tokens_by_usernames: 'logins whose tokens to revoke',
  revoke_tokens_by_labels: "labels of the caller's own tokens",
  revoke_tokens_by_ids: "tokens' public ids (or users' ids: all their tokens)",
} as const;
const revocationFields = <T>(field: (description: string) => T) =>
  Object.fromEntries(Object.entries(REVOCATION_DESCRIPTIONS).map(([name, description]) => [name, field(description)])) as Record<keyof typeof REVOCATION_DESCRIPTIONS, T>;

export const RevokeTokensQuery = Type.Object({ ...revocationFields(NameListText), token: Type.Optional(Type.String()) }, { additionalProperties: false });
export const RevokeTokensBody = Type.Object(revocationFields(NameList), { additionalProperties: false, examples: [{ revoke_tokens_by_labels: ['laptop'] }] });
export type RevokeTokensBody = Static<typeof RevokeTokensBody>;

export const TokenParams = Type.Object({ token: Type.String({ maxLength: 256 }) }, { additionalProperties: false });

/** POST /rbac-api/v2/auth/token/authenticate (PE's keys, `?` included). */
export const IntrospectionBody = Type.Object(
  {
    token: Type.String({ maxLength: 4096 }),
    'update_last_activity?': Type.Optional(Type.Boolean({ description: "record this call as the token's last activity" })),
  },
  { additionalProperties: false, examples: [{ token: EXAMPLE_TOKEN, 'update_last_activity?': false }] },
);

// PE's keys: a user's fields without the group ones, and the token's.
const INTROSPECTED_USER_EXAMPLE = Object.fromEntries(Object.entries(USER_EXAMPLE).filter(([key]) => key !== 'inherited_role_ids' && key !== 'group_ids'));
export const Introspection = Type.Object(
  {
    ...Type.Omit(User, ['inherited_role_ids', 'group_ids']).properties,
    user_id: Type.String(),
    creation: Time,
    expiration: Type.Union([Time, Type.Null()]),
    last_active: Time,
    label: OptionalText,
    description: OptionalText,
    client: OptionalText,
    timeout: Type.Union([Type.Integer(), Type.Null()], { description: 'token-inactivity-timeout in seconds (PE\'s session timeout); null when unset' }),
  },
  {
    examples: [
      {
        ...INTROSPECTED_USER_EXAMPLE,
        user_id: ALICE_ID,
        creation: EXAMPLE_TIME,
        expiration: '2026-12-02T13:30:00.000Z',
        last_active: EXAMPLE_TIME,
        label: 'laptop',
        description: null,
        client: null,
        timeout: null,
      },
    ],
  },
);

/** One broken rule in PE's answer to validate-password and validate-login, and in `details.failures` of 400 invalid-password. */
export const RuleFailure = Type.Object({
  'rule-identifier': Type.String({ description: "the setting's name for PE's rules (letters-required, …), the service's own name for its rules" }),
  'friendly-error': Type.String(),
});

/** PE's answer to validate-password and validate-login: `{valid: true}`, or `{valid: false, failures}`. */
// Beyond PE (CONTRACT §15): with password-maximum-age-days set, validate-password
// also states the age rule; without it the answer is exactly PE's.
const passwordAgeNotice = {
  password_maximum_age_days: Type.Optional(Type.Integer({ description: 'password-maximum-age-days, only when set' })),
  password_expires_at: Type.Optional(Type.String({ description: 'when a password set now must be changed, only when password-maximum-age-days is set' })),
};
export const Validation = Type.Union(
  [
    Type.Object({ valid: Type.Literal(true), ...passwordAgeNotice }),
    Type.Object({ valid: Type.Literal(false), failures: Type.Array(RuleFailure, { minItems: 1 }), ...passwordAgeNotice }),
  ],
  {
    examples: [
      {
        valid: false,
        failures: [
          { 'rule-identifier': 'password-minimum-length', 'friendly-error': 'The password must be at least 12 characters long.' },
          { 'rule-identifier': 'common-password', 'friendly-error': 'The password is on the list of commonly used passwords.' },
        ],
      },
      { valid: true },
    ],
  },
);
export type Validation = Static<typeof Validation>;

export const ValidateLoginBody = Type.Object({ login: Type.String({ maxLength: 255 }) }, { additionalProperties: false, examples: [{ login: 'alice' }] });

const EventParty = Type.Union([
  Type.Object({
    id: Type.Union([Type.String(), Type.Null()]),
    login: Type.Union([Type.String(), Type.Null()]),
    /** An actor that authenticated with an allowlisted client certificate (api_user): the certificate's certname. */
    certname: Type.Optional(Type.String()),
  }),
  Type.Null(),
]);

/** A security event as GET /events lists it. */
export const ListedEvent = Type.Object({
  id: Type.Integer(),
  time: Type.String(),
  type: Type.String(),
  actor: EventParty,
  subject: EventParty,
  source_address: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type ListedEvent = Static<typeof ListedEvent>;

/** GET /events. */
export const EventsPage = Type.Object(
  {
    events: Type.Array(ListedEvent),
    pagination: Type.Object({ limit: Type.Integer(), offset: Type.Integer(), total: Type.Integer() }),
  },
  {
    examples: [
      {
        events: [
          {
            id: 42,
            time: EXAMPLE_TIME,
            type: 'password-reset-token-issued',
            actor: { id: 'a1b2c3d4-0000-4000-8000-000000000001', login: 'admin' },
            subject: { id: ALICE_ID, login: 'alice' },
            source_address: '203.0.113.7',
            details: {},
          },
        ],
        pagination: { limit: 100, offset: 0, total: 1 },
      },
    ],
  },
);

// --- PE's activity service (/activity-api): the audit trail in PE's shapes (src/activity/).

/** The most commits one page holds, and how many a page holds when the request does not say (PE's default). */
export const MAX_ACTIVITY_PAGE = 1000;

const ActivityTime = Type.String({ description: 'when the event was recorded: ISO-8601, UTC' });
// Counted by src/activity/filters.ts over every list of a request (at most MAX_LIST_ITEMS ids in all).
const ActivityIdList = (description: string) =>
  Type.Optional(
    Type.Union([Type.String({ maxLength: 40000 }), Type.Array(Type.String({ maxLength: 40000 }), { maxItems: MAX_LIST_ITEMS })], { description: `${description}: comma-separated, or the parameter repeated` }),
  );
const Offset = Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: 'commits to skip, default 0' }));
const Limit = Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$', description: `commits in the page: 1 to ${MAX_ACTIVITY_PAGE}, default ${MAX_ACTIVITY_PAGE} (a larger limit is lowered to it)` }));
const Order = Type.Optional(Type.String({ maxLength: 16, description: 'asc or desc (by the time recorded), default desc' }));
const ServiceId = (description: string) => Type.String({ maxLength: 255, description });

/** GET /activity-api/v1/events and events.csv. */
export const ActivityQueryV1 = Type.Object(
  {
    service_id: ServiceId('required: rbac (any other service has no events here: the answer is empty)'),
    subject_type: Type.Optional(Type.String({ maxLength: 64, description: 'who acted: users' })),
    subject_id: ActivityIdList('ids (UUIDs) of the users who acted; needs subject_type'),
    object_type: Type.Optional(Type.String({ maxLength: 64, description: 'what the events are about: users, roles, user_groups, directory_server_settings, signing_keys, disclaimer' })),
    object_id: ActivityIdList('ids of those objects; needs object_type'),
    offset: Offset,
    limit: Limit,
    order: Order,
    after_service_commit_time: Type.Optional(Type.String({ maxLength: 64, description: 'only events recorded after this time (ISO-8601; UTC without an offset)' })),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ActivityQueryV1 = Static<typeof ActivityQueryV1>;

/** GET /activity-api/v2/events and events.csv. */
export const ActivityQueryV2 = Type.Object(
  {
    service_id: Type.Optional(ServiceId('rbac, or left out for every service (here: rbac); any other service has no events here')),
    offset: Offset,
    limit: Limit,
    order: Order,
    query: Type.Optional(
      Type.String({
        maxLength: 65536,
        description:
          'a JSON array of filters: {subject_id, subject_type?}, {subject_type}, {object_type, object_id?}, {ip_address} (a part of the address), {start, end} (ISO-8601). ' +
          'Filters of one kind match when any of them does; filters of different kinds must all match.',
      }),
    ),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ActivityQueryV2 = Static<typeof ActivityQueryV2>;

const ACTIVITY_ADMIN = { id: '8d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b', name: 'admin' };
const ACTIVITY_EVENT_EXAMPLE = { type: 'edit', what: 'role_membership', description: 'role_assigned', message: `User alice (${ALICE_ID}) added to role Helpdesk.` };

/** One event of a commit, in PE's keys. */
export const ActivityEvent = Type.Object({
  type: Type.String({ description: 'the kind of change: create, edit, delete, authenticate, revoke, reinstate, reject, fail' }),
  what: Type.String({ description: 'the thing changed: user, role, role_membership, password, password_reset_token, …' }),
  description: Type.String({ description: 'the event type, in snake_case (role_assigned): the type of GET /rbac-api/v1/events with _ for -' }),
  message: Type.String({ description: 'the event in plain words' }),
});
export type ActivityEvent = Static<typeof ActivityEvent>;

const ActivityParty = Type.Object({
  id: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
});

/** A commit as v1 lists it: the object, the user who acted (PE's subject), when, and its events. */
export const ActivityCommitV1 = Type.Object({
  object: ActivityParty,
  subject: Type.Object({ id: Type.Union([Type.String(), Type.Null()], { description: 'null: no user acted (a failed login, the service itself)' }), name: Type.Union([Type.String(), Type.Null()]) }),
  timestamp: ActivityTime,
  events: Type.Array(ActivityEvent),
});
export type ActivityCommitV1 = Static<typeof ActivityCommitV1>;

/** GET /activity-api/v1/events. */
export const ActivityPageV1 = Type.Object(
  {
    commits: Type.Array(ActivityCommitV1),
    offset: Type.Integer(),
    limit: Type.Integer(),
    'total-rows': Type.Integer({ description: 'commits the filters select in all' }),
  },
  {
    examples: [
      {
        commits: [{ object: { id: ALICE_ID, name: 'alice' }, subject: ACTIVITY_ADMIN, timestamp: EXAMPLE_TIME, events: [ACTIVITY_EVENT_EXAMPLE] }],
        offset: 0,
        limit: 1000,
        'total-rows': 1,
      },
    ],
  },
);
export type ActivityPageV1 = Static<typeof ActivityPageV1>;

const ActivityObjectV2 = Type.Object({ id: Type.Union([Type.String(), Type.Null()]), name: Type.Union([Type.String(), Type.Null()]), type: Type.String() });

/** A commit as v2 lists it: every object it concerns, with their types. */
export const ActivityCommitV2 = Type.Object({
  objects: Type.Array(ActivityObjectV2),
  subject: Type.Object({ id: Type.Union([Type.String(), Type.Null()]), name: Type.Union([Type.String(), Type.Null()]), type: Type.Union([Type.Literal('users'), Type.Null()]) }),
  timestamp: ActivityTime,
  ip_address: Type.Union([Type.String(), Type.Null()], { description: 'where the request came from' }),
  service: Type.Object({ id: Type.Literal('rbac') }),
  events: Type.Array(ActivityEvent),
});
export type ActivityCommitV2 = Static<typeof ActivityCommitV2>;

/** GET /activity-api/v2/events. */
export const ActivityPageV2 = Type.Object(
  {
    commits: Type.Array(ActivityCommitV2),
    pagination: Type.Object({ total: Type.Integer({ description: 'commits the filters select in all' }), limit: Type.Integer(), offset: Type.Integer() }),
  },
  {
    examples: [
      {
        commits: [
          {
            objects: [
              { id: ALICE_ID, name: 'alice', type: 'users' },
              { id: '2', name: 'Helpdesk', type: 'roles' },
            ],
            subject: { ...ACTIVITY_ADMIN, type: 'users' },
            timestamp: EXAMPLE_TIME,
            ip_address: '203.0.113.7',
            service: { id: 'rbac' },
            events: [ACTIVITY_EVENT_EXAMPLE],
          },
        ],
        pagination: { total: 1, limit: 1000, offset: 0 },
      },
    ],
  },
);
export type ActivityPageV2 = Static<typeof ActivityPageV2>;

const CSV_EXAMPLE_ROW = `2026-12-02 09:30:00.000,users,${ACTIVITY_ADMIN.id},admin,users,${ALICE_ID},alice,edit,role_membership,role_assigned,User alice (${ALICE_ID}) added to role Helpdesk.`;
const CSV_DESCRIPTION = "CSV (RFC 4180 quoting; a cell that starts with =, +, -, @, a tab or a carriage return is prefixed with ' so spreadsheets do not run it), one row per event";
/** GET /activity-api/v1/events.csv: one row per event. */
export const ActivityCsvV1 = Type.String({
  description: CSV_DESCRIPTION,
  examples: [`Submit Time,Subject Type,Subject Id,Subject Name,Object Type,Object Id,Object Name,Type,What,Description,Message\n${CSV_EXAMPLE_ROW}\n`],
});
/** GET /activity-api/v2/events.csv: v1's columns and the address. */
export const ActivityCsvV2 = Type.String({
  description: CSV_DESCRIPTION,
  examples: [`Submit Time,Subject Type,Subject Id,Subject Name,Object Type,Object Id,Object Name,Type,What,Description,Message,Ip Address\n${CSV_EXAMPLE_ROW},203.0.113.7\n`],
});

/** PE's disclaimer: GET /config/disclaimer answers it, set-disclaimer takes it. */
export const Disclaimer = Type.Object({ disclaimer: Type.String() }, { examples: [{ disclaimer: 'Authorized use only. Activity is logged.' }] });
/** The longest disclaimer accepted, in characters: a page of legal text, not a document. */
export const MAX_DISCLAIMER_LENGTH = 10_000;
export const DisclaimerBody = Type.Object(
  { disclaimer: Type.String({ maxLength: MAX_DISCLAIMER_LENGTH, description: 'shown as plain text on the reset page; empty shows an empty disclaimer' }) },
  { additionalProperties: false, examples: [{ disclaimer: 'Authorized use only. Activity is logged.' }] },
);

// --- The password endpoints' bodies and answers.

export const ResetTokenText = Type.String({ maxLength: 8192, description: 'a reset token from POST /users/:sid/password/reset' });

/** POST /users/:sid/password/reset: the token as text/plain, or this for Accept: application/json. */
export const IssuedResetToken = Type.Object(
  { token: Type.String(), url: Type.String({ description: 'the reset page with the token filled in' }) },
  { examples: [{ token: EXAMPLE_RESET_TOKEN, url: `https://rbac.example.com:4433/auth/reset?token=${EXAMPLE_RESET_TOKEN}` }] },
);
export const IssuedResetTokenText = Type.String({ description: 'the reset token', examples: [EXAMPLE_RESET_TOKEN] });

export const ResetBody = Type.Object(
  { token: ResetTokenText, password: PasswordText },
  { additionalProperties: false, examples: [{ token: EXAMPLE_RESET_TOKEN, password: 'lantern harbor morning tide' }] },
);
export const HolderBody = Type.Object({ token: ResetTokenText }, { additionalProperties: false, examples: [{ token: EXAMPLE_RESET_TOKEN }] });
export const Holder = Type.Object(
  {
    login: Type.String(),
    revoked_by: accountState.revoked_by,
    lockout_lifts_at: accountState.lockout_lifts_at,
    password_change_required: accountState.password_change_required,
    password_expired: Type.Boolean({ description: 'the password is older than password-maximum-age-days: the next login must change it' }),
    password_maximum_age_days: Type.Union([Type.Integer(), Type.Null()], { description: 'password-maximum-age-days; null when passwords do not age' }),
  },
  {
    examples: [
      { login: 'alice', revoked_by: 'lockout', lockout_lifts_at: '2026-03-01T12:30:00.000Z', password_change_required: false, password_expired: false, password_maximum_age_days: null },
      { login: 'bob', revoked_by: null, lockout_lifts_at: null, password_change_required: true, password_expired: true, password_maximum_age_days: 90 },
    ],
  },
);
export type Holder = Static<typeof Holder>;
export const ChangePasswordBody = Type.Object(
  { current_password: PasswordText, password: PasswordText },
  { additionalProperties: false, examples: [{ current_password: 'lantern harbor morning tide', password: 'quiet river stone garden' }] },
);
export const ValidatePasswordBody = Type.Object(
  {
    password: PasswordText,
    reset_token: Type.Optional(ResetTokenText),
    // PE's own console sends the hyphenated name.
    'reset-token': Type.Optional(ResetTokenText),
  },
  { additionalProperties: false, examples: [{ password: 'password', reset_token: EXAMPLE_RESET_TOKEN }] },
);

/** GET /status/v1/simple. */
export const Running = Type.String({ description: 'running', examples: ['running'] });

// --- Status and permission types.

const Level = Type.Union([Type.Literal('critical'), Type.Literal('info'), Type.Literal('debug')]);

const DatabaseStatus = Type.Object({
  state: Type.Union([Type.Literal('running'), Type.Literal('error')]),
  dialect: Type.String({ description: 'sqlite or postgres' }),
  response_time_ms: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String({ description: "why the check failed; with the driver's error code at level=debug" })),
});

const SERVICE_STATUS_EXAMPLE = {
  service_version: '0.1.0',
  service_status_version: 1,
  detail_level: 'info',
  state: 'running',
  status: { db_up: true, database: { state: 'running', dialect: 'postgres', response_time_ms: 1.2 } },
  active_alerts: [],
  service_name: 'rbac-service',
};

/** PE's status of one service (GET /status/v1/services/rbac-service). */
export const ServiceStatus = Type.Object({
  service_version: Type.String(),
  service_status_version: Type.Integer(),
  detail_level: Level,
  state: Type.Union([Type.Literal('running'), Type.Literal('error'), Type.Literal('stopping')], { description: 'stopping: in the shutdown grace period (503)' }),
  status: Type.Object({
    db_up: Type.Boolean(),
    database: DatabaseStatus,
    db_pool: Type.Optional(Type.Object({ total: Type.Integer(), idle: Type.Integer(), waiting: Type.Integer() })),
  }),
  active_alerts: Type.Array(Type.Object({ severity: Type.String(), message: Type.String() })),
  service_name: Type.String(),
}, { examples: [SERVICE_STATUS_EXAMPLE] });
/** GET /status/v1/services: every service's status by name. */
export const ServiceStatuses = Type.Record(Type.String(), ServiceStatus, { examples: [{ 'rbac-service': SERVICE_STATUS_EXAMPLE }] });

/** GET /types: the permission types and their actions. */
export const PermissionTypes = Type.Array(
  Type.Object({
    id: Type.Integer(),
    object_type: Type.String(),
    display_name: Type.String(),
    description: Type.String(),
    has_instances: Type.Boolean({ description: 'whether one of its actions can name one object' }),
    actions: Type.Array(
      Type.Object({
        id: Type.Integer(),
        name: Type.String(),
        display_name: Type.String(),
        description: Type.String(),
        has_instances: Type.Boolean({ description: 'whether the action can name one object; if not, its instance is always "*"' }),
      }),
    ),
  }),
  {
    examples: [
      [
        {
          id: 1,
          object_type: 'users',
          display_name: 'Users',
          description: 'Create, edit, revoke and reset the passwords of users.',
          has_instances: true,
          actions: [{ id: 4, name: 'reset_password', display_name: 'Reset password', description: 'Issue password reset tokens for a local user.', has_instances: true }],
        },
      ],
    ],
  },
);

// Directory service (LDAP) settings, in PE's field names (CONTRACT §11).
// `password` (the lookup account's) is write-only: accepted here, never in
// DirectorySettings, which is what every answer shows.

const AttributeName = (description: string, example: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\\.[0-9]+)+)$', description, examples: [example] });
const DistinguishedName = (description: string, example: string) => Type.String({ maxLength: 1024, description, examples: [example] });
const NullableText = (description: string) => Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description });

const DirectoryFields = {
  display_name: Type.String({ minLength: 1, maxLength: 255, description: 'the name shown for this directory', examples: ['Example LDAP'] }),
  help_link: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description: 'a link shown to users who cannot log in' })),
  hostname: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]_-]+$', description: 'the directory server host name or address', examples: ['ldap.example.com'] }),
  port: Type.Integer({ minimum: 1, maximum: 65535, examples: [636] }),
  ssl: Type.Boolean({ description: 'LDAPS: TLS from the first byte' }),
  start_tls: Type.Optional(Type.Boolean({ description: 'upgrade a plain connection with StartTLS (not with ssl); default false' })),
  ssl_hostname_validation: Type.Optional(Type.Boolean({ description: "check that the server's certificate names hostname; default true" })),
  ssl_wildcard_validation: Type.Optional(Type.Boolean({ description: 'accept a certificate that names hostname only through a wildcard; default false' })),
  // A chain of several RSA CA certificates runs to kilobytes: NullableText's 1024 would refuse real ones.
  cert_chain: Type.Optional(Type.Union([Type.String({ maxLength: 32768 }), Type.Null()], { description: 'PEM certificates of the CAs to trust for this directory; null: the system CAs' })),
  login: Type.Optional(NullableText('the DN of the lookup account; null: anonymous lookups')),
  connect_timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, description: 'seconds to connect, and for each directory operation; default 10' })),
  base_dn: DistinguishedName('where users and groups are searched', 'dc=example,dc=com'),
  user_rdn: Type.Optional(NullableText('users are searched under this RDN of base_dn (e.g. ou=users); null: base_dn itself')),
  user_lookup_attr: AttributeName('the attribute a login is matched against', 'uid'),
  user_email_attr: AttributeName("the attribute holding a user's email address", 'mail'),
  user_display_name_attr: AttributeName("the attribute holding a user's display name", 'cn'),
  group_rdn: Type.Optional(NullableText('groups are searched under this RDN of base_dn (e.g. ou=groups); null: base_dn itself')),
  group_object_class: AttributeName('the object class of groups', 'groupOfUniqueNames'),
  group_name_attr: AttributeName("the attribute holding a group's display name", 'cn'),
  group_member_attr: AttributeName("the attribute listing a group's members' DNs", 'uniqueMember'),
  group_lookup_attr: AttributeName('the attribute a group is imported by', 'cn'),
  search_nested_groups: Type.Optional(Type.Boolean({ description: 'members of a group inside a group are its members too; default false' })),
  disable_ldap_matching_rule_in_chain: Type.Optional(Type.Boolean({ description: "accepted for PE's clients; nested groups are always searched level by level" })),
  // PE's newer keys, spelled as PE spells them. Null or left out: Node's defaults.
  'cipher-suites': Type.Optional(
    Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, maxItems: 64 }), Type.Null()], {
      description: "the TLS cipher suites the directory's connection may use, by OpenSSL's names or IANA's (PE's); null: Node's defaults",
      examples: [['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384']],
    }),
  ),
  'ssl-protocols': Type.Optional(
    Type.Union([Type.Array(Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')]), { minItems: 1, maxItems: 2 }), Type.Null()], {
      description: 'the TLS versions the connection may use (TLS below 1.2 is not offered); null: TLSv1.2 and TLSv1.3',
      examples: [['TLSv1.2', 'TLSv1.3']],
    }),
  ),
};

const DIRECTORY_ID = '3d6f0a8e-2b7c-4e1f-9a5d-8c4b2e1f0a7d';
const DIRECTORY_SETTINGS_EXAMPLE = {
  display_name: 'Example LDAP',
  help_link: null,
  hostname: 'ldap.example.com',
  port: 636,
  ssl: true,
  start_tls: false,
  ssl_hostname_validation: true,
  ssl_wildcard_validation: false,
  cert_chain: null,
  login: 'cn=reader,ou=service,dc=example,dc=com',
  connect_timeout: 10,
  base_dn: 'dc=example,dc=com',
  user_rdn: 'ou=users',
  user_lookup_attr: 'uid',
  user_email_attr: 'mail',
  user_display_name_attr: 'cn',
  group_rdn: 'ou=groups',
  group_object_class: 'groupOfUniqueNames',
  group_name_attr: 'cn',
  group_member_attr: 'uniqueMember',
  group_lookup_attr: 'cn',
  search_nested_groups: false,
  disable_ldap_matching_rule_in_chain: false,
  'cipher-suites': null,
  'ssl-protocols': null,
};
const DIRECTORY_EXAMPLE = { id: DIRECTORY_ID, ...DIRECTORY_SETTINGS_EXAMPLE };
const GROUP_EXAMPLE = {
  id: '9b1c2d3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e',
  login: 'developers',
  display_name: 'Developers',
  role_ids: [2],
  user_ids: [ALICE_ID],
  identity_provider_id: DIRECTORY_ID,
  is_group: true,
  is_remote: true,
  is_superuser: false,
  is_revoked: false,
};

const BindPassword = Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description: 'the lookup account password: write-only, never shown' }));

/** POST /command/ldap/create, PUT /ds, the tests of settings. */
export const NewDirectoryBody = Type.Object(
  { ...DirectoryFields, password: BindPassword, id: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false, examples: [{ ...DIRECTORY_SETTINGS_EXAMPLE, password: 'the lookup account password' }] },
);
export type NewDirectoryBody = Static<typeof NewDirectoryBody>;

/** POST /command/ldap/update: the settings with the id of the directory they replace; a password left out keeps the stored one. */
export const DirectoryUpdateBody = Type.Object(
  { ...DirectoryFields, password: BindPassword, id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false, examples: [{ ...DIRECTORY_EXAMPLE, connect_timeout: 5 }] },
);
export type DirectoryUpdateBody = Static<typeof DirectoryUpdateBody>;

export const DirectoryIdBody = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false, examples: [{ id: DIRECTORY_ID }] });

/** A directory as every answer shows it: all settings, defaults filled in, never the password. */
export const DirectorySettings = Type.Object({
  id: Type.String({ format: 'uuid' }),
  display_name: Type.String(),
  help_link: Type.Union([Type.String(), Type.Null()]),
  hostname: Type.String(),
  port: Type.Integer(),
  ssl: Type.Boolean(),
  start_tls: Type.Boolean(),
  ssl_hostname_validation: Type.Boolean(),
  ssl_wildcard_validation: Type.Boolean(),
  cert_chain: Type.Union([Type.String(), Type.Null()]),
  login: Type.Union([Type.String(), Type.Null()]),
  connect_timeout: Type.Integer(),
  base_dn: Type.String(),
  user_rdn: Type.Union([Type.String(), Type.Null()]),
  user_lookup_attr: Type.String(),
  user_email_attr: Type.String(),
  user_display_name_attr: Type.String(),
  group_rdn: Type.Union([Type.String(), Type.Null()]),
  group_object_class: Type.String(),
  group_name_attr: Type.String(),
  group_member_attr: Type.String(),
  group_lookup_attr: Type.String(),
  search_nested_groups: Type.Boolean(),
  disable_ldap_matching_rule_in_chain: Type.Boolean(),
  'cipher-suites': Type.Union([Type.Array(Type.String()), Type.Null()]),
  'ssl-protocols': Type.Union([Type.Array(Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')])), Type.Null()]),
}, { examples: [DIRECTORY_EXAMPLE] });
export type DirectorySettings = Static<typeof DirectorySettings>;

/** What a caller without directory_service:edit sees of a directory (PE's GET /v2/ldap). */
export const DirectorySummary = Type.Object({ id: Type.String(), display_name: Type.String() }, { examples: [{ id: DIRECTORY_ID, display_name: 'Example LDAP' }] });
/** GET /v2/ldap, GET /v2/ds: every setting with directory_service:edit, else the summary. */
export const Directories = Type.Array(Type.Union([DirectorySettings, DirectorySummary]), { examples: [[DIRECTORY_EXAMPLE]] });
/** GET /v2/ldap/:id. */
export const DirectoryOrSummary = Type.Union([DirectorySettings, DirectorySummary], { examples: [DIRECTORY_EXAMPLE] });
/** GET /ds: the settings, or {} when none is set. */
export const DirectoryOrNone = Type.Union([DirectorySettings, Type.Object({}, { additionalProperties: false })], { examples: [DIRECTORY_EXAMPLE, {}] });

export const DirectoryParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

/** A successful connection test: how long it took, in milliseconds. */
export const DirectoryTestResult = Type.Object({ elapsed: Type.Integer({ description: 'milliseconds the connect, bind and search took' }) }, { examples: [{ elapsed: 12 }] });

// Directory groups (PE's user groups).

export const Group = Type.Object({
  id: Type.String({ format: 'uuid' }),
  login: Type.String({ description: "the group's lookup value in the directory" }),
  display_name: Type.String(),
  role_ids: Type.Array(Type.Integer()),
  user_ids: Type.Array(Type.String(), { description: 'remote users who were in the group at their last login' }),
  identity_provider_id: Type.Union([Type.String(), Type.Null()], { description: 'the directory the group comes from' }),
  is_group: Type.Literal(true),
  is_remote: Type.Literal(true),
  is_superuser: Type.Literal(false),
  is_revoked: Type.Boolean(),
}, { examples: [GROUP_EXAMPLE] });
export type Group = Static<typeof Group>;
/** GET /groups. */
export const Groups = Type.Array(Group, { examples: [[GROUP_EXAMPLE]] });

const GroupLogin = Type.String({ minLength: 1, maxLength: 255, description: "the group's value of group_lookup_attr", examples: ['developers'] });

/** POST /command/groups/create, POST /groups, POST /v2/groups. */
export const NewGroupBody = Type.Object(
  {
    login: GroupLogin,
    role_ids: Type.Optional(RoleIds),
    display_name: Type.Optional(Type.String({ maxLength: 255 })),
    identity_provider_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    validate: Type.Optional(Type.Boolean({ description: 'v2: refuse a group the directory does not have' })),
  },
  { additionalProperties: false, examples: [{ login: 'developers', role_ids: [2] }] },
);
export type NewGroupBody = Static<typeof NewGroupBody>;

/** PUT /groups/:sid: the group as GET gave it; only role_ids change (the rest comes from the directory). */
export const EditGroupBody = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 64 })),
    login: Type.Optional(Type.String({ maxLength: 255 })),
    display_name: Type.Optional(Type.String({ maxLength: 255 })),
    role_ids: Type.Optional(RoleIds),
    user_ids: Type.Optional(UserIds),
    identity_provider_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    is_group: Type.Optional(Type.Boolean()),
    is_remote: Type.Optional(Type.Boolean()),
    is_superuser: Type.Optional(Type.Boolean()),
    is_revoked: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, examples: [{ ...GROUP_EXAMPLE, role_ids: [2, 3] }] },
);
export type EditGroupBody = Static<typeof EditGroupBody>;
