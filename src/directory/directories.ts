// Directory service connections (CONTRACT §11): PE's /command/ldap/*, /ds and
// /v2/ldap routes and `rbac ldap` all come here. Every read and change needs
// directory_service:edit, except PE's summary (id and display name) that any
// authenticated caller may list. The lookup account's password is
// write-only: stored apart, read only to bind, never answered, logged or put
// in an event — and sent only where it was saved for: settings that move the
// directory must come with the password again.

import { randomUUID } from 'node:crypto';
import { partyOf, recordEvent, recordEvents, type AuditEvent, type DirectoryTestOutcome, type Party } from '../audit/audit.js';
import { ServiceError, notFound, permissionDenied } from '../errors.js';
import { hasPermission, type Actor } from '../permissions/permissions.js';
import type { DirectorySettings, DirectoryUpdateBody, NewDirectoryBody } from '../shapes.js';
import * as directories from '../store/directories.js';
import * as groups from '../store/groups.js';
import * as users from '../store/users.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import { assertRequesterActive } from '../users/authorization.js';
import { type DirectoryAccess, type DirectoryStage, DirectoryUnavailable, opensslCipherName, parseCertificateChain, withDirectory } from './ldap.js';

interface Context {
  actor: Party | null;
  sourceAddress: string | null;
}

/** Who asks: a user, or null for `rbac` at the server. */
export type DirectoryRequester = Actor | null;

const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

async function assertMayEditDirectories(db: Executor, by: DirectoryRequester): Promise<void> {
  if (by && !(await hasPermission(db, by, 'directory_service', 'edit', '*'))) {
    throw permissionDenied('Viewing, changing and testing the directory service needs directory_service:edit.');
  }
}

export async function mayEditDirectories(db: Executor, by: DirectoryRequester): Promise<boolean> {
  return by === null || hasPermission(db, by, 'directory_service', 'edit', '*');
}

/** The settings a request gives, with PE's defaults filled in, checked as a whole. */
export function settingsFrom(input: NewDirectoryBody, id: string): DirectorySettings {
  const settings: DirectorySettings = {
    id,
    display_name: input.display_name.trim(),
    help_link: input.help_link ?? null,
    hostname: input.hostname,
    port: input.port,
    ssl: input.ssl,
    start_tls: input.start_tls ?? false,
    ssl_hostname_validation: input.ssl_hostname_validation ?? true,
    ssl_wildcard_validation: input.ssl_wildcard_validation ?? false,
    cert_chain: input.cert_chain?.trim() ? input.cert_chain : null,
    login: input.login?.trim() ? input.login.trim() : null,
    connect_timeout: input.connect_timeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
    base_dn: input.base_dn.trim(),
    user_rdn: input.user_rdn?.trim() ? input.user_rdn.trim() : null,
    user_lookup_attr: input.user_lookup_attr,
    user_email_attr: input.user_email_attr,
    user_display_name_attr: input.user_display_name_attr,
    group_rdn: input.group_rdn?.trim() ? input.group_rdn.trim() : null,
    group_object_class: input.group_object_class,
    group_name_attr: input.group_name_attr,
    group_member_attr: input.group_member_attr,
    group_lookup_attr: input.group_lookup_attr,
    search_nested_groups: input.search_nested_groups ?? false,
    disable_ldap_matching_rule_in_chain: input.disable_ldap_matching_rule_in_chain ?? false,
    'cipher-suites': input['cipher-suites'] ?? null,
    'ssl-protocols': input['ssl-protocols'] ?? null,
  };
  assertSettingsCoherent(settings);
  return settings;
}

/** The rules that tie fields together; each field's own rule is in its TypeBox shape. */
function assertSettingsCoherent(settings: DirectorySettings): void {
  const invalid = (field: string, message: string) => new ServiceError('schema-violation', message, { field });
  if (settings.ssl && settings.start_tls) throw invalid('start_tls', 'Choose ssl (LDAPS) or start_tls (StartTLS on a plain connection), not both.');
  if (settings.display_name.length === 0) throw invalid('display_name', 'display_name must not be blank.');
  if (settings.base_dn.length === 0) throw invalid('base_dn', 'base_dn must not be blank.');
  if (settings.cert_chain !== null) {
    const chain = parseCertificateChain(settings.cert_chain);
    if ('error' in chain) throw invalid('cert_chain', chain.error);
  }
  const unknownSuite = settings['cipher-suites']?.find((suite) => opensslCipherName(suite) === undefined);
  if (unknownSuite !== undefined) throw invalid('cipher-suites', `The cipher suite ${unknownSuite} is not one this service's TLS (OpenSSL) offers.`);
}

type TlsKeys = 'cipher-suites' | 'ssl-protocols';

function storedSettings(row: directories.DirectoryRow): DirectorySettings {
  // Settings stored before PE's TLS keys were taken have neither: the defaults.
  const stored = JSON.parse(row.settings) as Omit<DirectorySettings, 'id' | TlsKeys> & Partial<Pick<DirectorySettings, TlsKeys>>;
  return { ...stored, 'cipher-suites': stored['cipher-suites'] ?? null, 'ssl-protocols': stored['ssl-protocols'] ?? null, id: row.id };
}

const serialized = ({ id: _id, ...settings }: DirectorySettings) => JSON.stringify(settings);

/** The fields whose values differ: what an update event names (values are not recorded: help links and DNs say little, but the password never appears). */
function changedFields(before: DirectorySettings | undefined, after: DirectorySettings, passwordGiven: boolean): string[] {
  const fields = (Object.keys(after) as (keyof DirectorySettings)[]).filter((key) => key !== 'id' && before?.[key] !== after[key]);
  return passwordGiven ? [...fields, 'password'] : fields;
}

/**
 * The settings that decide where the lookup password goes and who can read
 * it on the way: the place, how the connection is protected (LDAPS,
 * StartTLS, the CAs trusted, the certificate checks), and the account it is
 * the password of.
 */
const PASSWORD_DESTINATION = ['hostname', 'port', 'ssl', 'start_tls', 'cert_chain', 'ssl_hostname_validation', 'ssl_wildcard_validation', 'login'] as const satisfies readonly (keyof DirectorySettings)[];

/**
 * The stored password goes only where it was saved for (CONTRACT §11): the
 * destination fields in which `settings` differ from the stored directory,
 * when it has a password — each one sends the password somewhere else, so a
 * request that changes any must send the password again. Empty when nothing
 * would move (or nothing is stored to move).
 */
function fieldsMovingStoredPassword(stored: directories.DirectoryRow & { bind_password: string | null }, settings: DirectorySettings): string[] {
  if (stored.bind_password === null) return [];
  const before = storedSettings(stored);
  return PASSWORD_DESTINATION.filter((field) => before[field] !== settings[field]);
}

const passwordRequired = (moved: readonly string[]) =>
  new ServiceError(
    'schema-violation',
    `Changing ${moved.join(', ')} would send the stored lookup password somewhere it was not saved for: send "password" again with these settings.`,
    { field: 'password', changed: moved },
  );

/**
 * Writes a directory carried over from another RBAC service (src/transfer/):
 * a new one without a bind password (PE never gives it out: the operator
 * sets it afterwards), or new settings over a stored one, whose password is
 * kept only while the settings do not send it somewhere else.
 */
export async function writeImportedDirectory(trx: Executor, settings: DirectorySettings, now: number): Promise<void> {
  const stored = await directories.withBindPassword(trx, settings.id);
  if (!stored) {
    await directories.insert(trx, { id: settings.id, settings: serialized(settings), bind_password: null }, now);
    return;
  }
  const moved = fieldsMovingStoredPassword(stored, settings);
  await directories.update(trx, settings.id, serialized(settings), moved.length > 0 ? null : undefined, now);
}

/** Every directory's settings (directory_service:edit). */
export async function listDirectories(db: Executor, by: DirectoryRequester): Promise<DirectorySettings[]> {
  await assertMayEditDirectories(db, by);
  return (await directories.list(db)).map(storedSettings);
}

/** GET /v2/ldap for a caller without directory_service:edit: id and display name only, as PE answers. */
export async function listDirectorySummaries(db: Executor): Promise<{ id: string; display_name: string }[]> {
  return (await directories.list(db)).map(storedSettings).map(({ id, display_name }) => ({ id, display_name }));
}

export async function readDirectory(db: Executor, by: DirectoryRequester, id: string): Promise<DirectorySettings> {
  await assertMayEditDirectories(db, by);
  const row = await directories.byId(db, id);
  if (!row) throw notFound('The directory');
  return storedSettings(row);
}

/** POST /command/ldap/create. */
export async function createDirectory(db: Db, by: DirectoryRequester, input: NewDirectoryBody, context: Context): Promise<DirectorySettings> {
  const settings = settingsFrom(input, randomUUID());
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDirectories(trx, by);
    await directories.insert(trx, { id: settings.id, settings: serialized(settings), bind_password: input.password ?? null }, Date.now());
    await recordEvent(trx, {
      type: 'directory-created',
      actor: context.actor,
      sourceAddress: context.sourceAddress,
      details: { directory_id: settings.id, hostname: settings.hostname, fields: changedFields(undefined, settings, input.password != null) },
    });
  });
  return settings;
}

/** POST /command/ldap/update: replaces the directory's settings; a password left out keeps the stored one, where it was saved for. */
export async function updateDirectory(db: Db, by: DirectoryRequester, input: DirectoryUpdateBody, context: Context): Promise<DirectorySettings> {
  const settings = settingsFrom(input, input.id);
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDirectories(trx, by);
    // Locked until the change commits: the check below holds for what is written.
    const before = await directories.withBindPassword(trx, input.id);
    if (!before) throw notFound('The directory');
    if (input.password === undefined) {
      const moved = fieldsMovingStoredPassword(before, settings);
      if (moved.length > 0) throw passwordRequired(moved);
    }
    await directories.update(trx, input.id, serialized(settings), input.password, Date.now());
    await recordEvent(trx, {
      type: 'directory-updated',
      actor: context.actor,
      sourceAddress: context.sourceAddress,
      details: { directory_id: settings.id, hostname: settings.hostname, fields: changedFields(storedSettings(before), settings, input.password !== undefined) },
    });
  });
  return settings;
}

/** PUT /ds, PE's older single-directory route: updates the first directory, or creates it when there is none. */
export async function replaceOnlyDirectory(db: Db, by: DirectoryRequester, input: NewDirectoryBody, context: Context): Promise<DirectorySettings> {
  const [first] = await directories.list(db);
  if (!first) return createDirectory(db, by, input, context);
  return updateDirectory(db, by, { ...input, id: first.id }, context);
}

/**
  * POST /command/ldap/delete, as PE does it: the remote users bound to the
  * directory go with it (their roles and login tokens with them) — no other
  * directory may take over their accounts — and so do the groups imported
  * for it (identity_provider_id), each recorded. Remote users not yet bound
  * to any directory, and groups imported for none, stay. Any well-formed
  * permitted request succeeds, even with no match.
 */
export async function deleteDirectory(db: Db, by: DirectoryRequester, id: string, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDirectories(trx, by);
    // Users first: the reference from users to directories has no delete action, so the directory cannot go while one is bound to it.
    const removed = await users.removeBoundTo(trx, id);
    const imported = await groups.ofDirectory(trx, id);
    for (const group of imported) await groups.remove(trx, group.id);
    const existed = await directories.remove(trx, id);
    await recordEvents(trx, [
      ...removed.map((user): AuditEvent => ({ type: 'user-deleted', actor: context.actor, subject: partyOf(user), sourceAddress: context.sourceAddress, details: { directory_id: id } })),
      ...imported.map((group): AuditEvent => ({ type: 'group-deleted', ...context, details: { group_id: group.id, login: group.login, directory_id: id } })),
      ...(existed ? [{ type: 'directory-deleted' as const, actor: context.actor, sourceAddress: context.sourceAddress, details: { directory_id: id, users_removed: removed.length, groups_removed: imported.length } }] : []),
    ]);
  });
}

/** The settings and lookup password of every directory, in the order logins try them. */
export async function directoryAccessList(db: Executor): Promise<DirectoryAccess[]> {
  const rows = await directories.list(db);
  return Promise.all(rows.map(async (row) => ({ settings: storedSettings(row), bindPassword: await directories.bindPasswordOf(db, row.id) })));
}

/** The access to one directory, by id, or the first when no id is given. */
export async function directoryAccess(db: Executor, id?: string | null): Promise<DirectoryAccess | undefined> {
  const row = id ? await directories.byId(db, id) : (await directories.list(db))[0];
  if (!row) return undefined;
  return { settings: storedSettings(row), bindPassword: await directories.bindPasswordOf(db, row.id) };
}

/**
 * GET /ds/test, `rbac ldap test`: a connection test of a stored directory
 * (as directoryAccess gives it), with its stored password, to its saved
 * place. See runTest.
 */
export async function testDirectory(db: Executor, by: DirectoryRequester, access: DirectoryAccess, context: Context): Promise<{ elapsed: number }> {
  await assertMayEditDirectories(db, by);
  return runTest(db, by, access, access.settings.id, context);
}

/**
 * POST /command/ldap/test, PUT /ds/test: a connection test of settings as a
 * request gives them, saved nowhere. A password left out is the stored one
 * of the directory with that id — only while the settings keep it where it
 * was saved for; otherwise 400 and nothing is sent (the refusal is recorded).
 */
export async function testDirectorySettings(db: Executor, by: DirectoryRequester, input: NewDirectoryBody, context: Context): Promise<{ elapsed: number }> {
  await assertMayEditDirectories(db, by);
  // The settings and the password in one read: the check holds for the password it lets go.
  const stored = input.id ? await directories.withBindPassword(db, input.id) : undefined;
  const settings = settingsFrom(input, stored?.id ?? randomUUID());
  const directoryId = stored?.id ?? null;
  let bindPassword = input.password ?? null;
  if (input.password === undefined && stored) {
    const moved = fieldsMovingStoredPassword(stored, settings);
    if (moved.length > 0) {
      await recordTest(db, settings, directoryId, 'refused', null, context);
      throw passwordRequired(moved);
    }
    bindPassword = stored.bind_password;
  }
  return runTest(db, by, { settings, bindPassword }, directoryId, context);
}

/**
 * Connect, TLS, bind as the lookup account, read base_dn; recorded as
 * `directory-tested` whatever the outcome. Answers how long it took; a
 * failure is 400 `directory-test-failed` (testFailed).
 */
async function runTest(db: Executor, by: DirectoryRequester, access: DirectoryAccess, directoryId: string | null, context: Context): Promise<{ elapsed: number }> {
  const started = performance.now();
  try {
    await withDirectory(access, (session) => session.readBase());
  } catch (error) {
    const unavailable = error instanceof DirectoryUnavailable ? error : undefined;
    await recordTest(db, access.settings, directoryId, 'failed', unavailable?.stage ?? null, context);
    throw unavailable ? testFailed(by, unavailable, access, directoryId) : error;
  }
  await recordTest(db, access.settings, directoryId, 'succeeded', null, context);
  return { elapsed: Math.round(performance.now() - started) };
}

async function recordTest(db: Executor, settings: DirectorySettings, directoryId: string | null, outcome: DirectoryTestOutcome, stage: DirectoryStage | null, context: Context): Promise<void> {
  await recordEvent(db, {
    type: 'directory-tested',
    actor: context.actor,
    sourceAddress: context.sourceAddress,
    details: { directory_id: directoryId, hostname: settings.hostname, port: settings.port, outcome, stage },
  });
}

/**
 * Who is told why a test failed, beyond its stage: the system's, TLS
 * stack's or directory's own text tells a closed port from an open one that
 * is not LDAP, which would make the test a port scanner for anyone with
 * directory_service:edit. Superusers and the operator at the server (who
 * can read the service log anyway) get it; the service log always does.
 */
const mayReadTestFailureReason = (by: DirectoryRequester) => by === null || by.is_superuser;

/** The longest reason passed on: it is the directory's (or anything listening there) to write. */
const MAX_REASON_LENGTH = 300;

/** 400 `directory-test-failed`: the stage in words, and the reason to those trusted with it; the reason with the place goes to the service log. */
function testFailed(by: DirectoryRequester, error: DirectoryUnavailable, access: DirectoryAccess, directoryId: string | null): ServiceError {
  // Whatever listens there writes the reason: no password it may echo, no control characters for a terminal, bounded.
  let reason = error.reason;
  if (access.bindPassword) reason = reason.replaceAll(access.bindPassword, '[REDACTED]');
  reason = reason.replace(/\p{Cc}/gu, ' ').slice(0, MAX_REASON_LENGTH);
  const stageText = `The directory test failed at the ${error.stage} stage: ${error.message}.`;
  const failure = mayReadTestFailureReason(by)
    ? new ServiceError('directory-test-failed', `${stageText} The reason given: ${reason}`, { stage: error.stage, reason })
    : new ServiceError('directory-test-failed', stageText, { stage: error.stage });
  const { hostname, port } = access.settings;
  return failure.withLog('directory test failed', { directory_id: directoryId, hostname, port, stage: error.stage, reason });
}
