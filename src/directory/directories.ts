// Directory service connections (CONTRACT §11): PE's /command/ldap/*, /ds and
// /v2/ldap routes and `rbac ldap` all come here. Every read and change needs
// directory_service:edit, except PE's summary (id and display name) that any
// authenticated caller may list. The lookup account's password is
// write-only: stored apart, read only to bind, never answered, logged or put
// in an event.

import { randomUUID } from 'node:crypto';
import { recordEvent, recordEvents, type AuditEvent, type Party } from '../audit/audit.js';
import { ServiceError, notFound, permissionDenied } from '../errors.js';
import { hasPermission, type Actor } from '../permissions/permissions.js';
import type { DirectorySettings, DirectoryUpdateBody, NewDirectoryBody } from '../shapes.js';
import * as directories from '../store/directories.js';
import * as groups from '../store/groups.js';
import * as users from '../store/users.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import { assertRequesterActive } from '../users/authorization.js';
import { type DirectoryAccess, DirectoryUnavailable, opensslCipherName, parseCertificateChain, withDirectory } from './ldap.js';

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

/** POST /command/ldap/update: replaces the directory's settings; a password left out keeps the stored one. */
export async function updateDirectory(db: Db, by: DirectoryRequester, input: DirectoryUpdateBody, context: Context): Promise<DirectorySettings> {
  const settings = settingsFrom(input, input.id);
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDirectories(trx, by);
    const before = await directories.byId(trx, input.id);
    if (!before) throw notFound('The directory');
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
 * POST /command/ldap/delete, as PE does it: the directory goes, and with it
 * its remote users (their login tokens stop working) and the groups
 * imported for it, each recorded. Remote users and groups of no directory
 * stay. Any well-formed permitted request succeeds, even with no match.
 */
export async function deleteDirectory(db: Db, by: DirectoryRequester, id: string, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDirectories(trx, by);
    const [members, imported] = await Promise.all([users.ofDirectory(trx, id), groups.ofDirectory(trx, id)]);
    await users.removeMany(trx, members.map((member) => member.id));
    for (const group of imported) await groups.remove(trx, group.id);
    const removed = await directories.remove(trx, id);
    await recordEvents(trx, [
      ...members.map((member): AuditEvent => ({ type: 'user-deleted', ...context, subject: member, details: { directory_id: id } })),
      ...imported.map((group): AuditEvent => ({ type: 'group-deleted', ...context, details: { group_id: group.id, login: group.login, directory_id: id } })),
      ...(removed ? [{ type: 'directory-deleted' as const, ...context, details: { directory_id: id, users_removed: members.length, groups_removed: imported.length } }] : []),
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
 * A connection test: connect, TLS, bind as the lookup account, read base_dn.
 * Answers how long it took; a failure is 400 `directory-test-failed` naming
 * the stage and the directory's reason, never the password.
 */
export async function testDirectory(db: Executor, by: DirectoryRequester, access: DirectoryAccess): Promise<{ elapsed: number }> {
  await assertMayEditDirectories(db, by);
  const started = performance.now();
  try {
    await withDirectory(access, (session) => session.readBase());
  } catch (error) {
    if (error instanceof DirectoryUnavailable) {
      throw new ServiceError('directory-test-failed', `The directory test failed: ${error.message}`, { stage: error.stage });
    }
    throw error;
  }
  return { elapsed: Math.round(performance.now() - started) };
}

/** Settings to test as a request gives them; a missing password is the stored one of the directory with that id. */
export async function accessToTest(db: Executor, by: DirectoryRequester, input: NewDirectoryBody): Promise<DirectoryAccess> {
  await assertMayEditDirectories(db, by);
  const id = input.id ?? randomUUID();
  const settings = settingsFrom(input, id);
  const bindPassword = input.password !== undefined ? input.password : input.id ? await directories.bindPasswordOf(db, input.id) : null;
  return { settings, bindPassword };
}
