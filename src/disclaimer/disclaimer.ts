// PE's login disclaimer: text an administrator sets through the API, shown
// on the reset page. Kept in the database (src/store/settings.ts) so every
// instance shows the same one. PE names its permissions twice (its reference
// table: configuration:view and edit; its disclaimer endpoints:
// configuration:view_disclaimer and edit_disclaimer): either name grants.
// Reading it through the API needs one of the four (who sets it may read it
// back), setting or removing it edit or edit_disclaimer; superusers may all three.

import { recordEvent, type Party } from '../audit/audit.js';
import { notFound, permissionDenied } from '../errors.js';
import { covers, permissionsOf, type Actor } from '../permissions/permissions.js';
import * as settings from '../store/settings.js';
import { inTransaction, type Db, type Executor } from '../store/transaction.js';
import { assertRequesterActive } from '../users/authorization.js';

interface Context {
  actor: Party | null;
  sourceAddress: string | null;
}

/** Whether the actor holds any of these configuration actions (one read of its roles). */
async function holdsAny(db: Executor, by: Actor, actions: readonly string[]): Promise<boolean> {
  if (by.is_superuser) return true;
  const held = await permissionsOf(db, by.id);
  return actions.some((action) => covers(held, { object_type: 'configuration', action, instance: '*' }));
}

/** Reading the disclaimer through the API: configuration:view or view_disclaimer, or edit or edit_disclaimer (who sets it may read it back). */
async function assertMayViewDisclaimer(db: Executor, by: Actor): Promise<void> {
  if (await holdsAny(db, by, ['view', 'view_disclaimer', 'edit', 'edit_disclaimer'])) return;
  throw permissionDenied('Reading the disclaimer needs configuration:view or configuration:view_disclaimer.');
}

/** Setting or removing the disclaimer: configuration:edit or edit_disclaimer. */
async function assertMayEditDisclaimer(db: Executor, by: Actor): Promise<void> {
  if (!(await holdsAny(db, by, ['edit', 'edit_disclaimer']))) throw permissionDenied('Changing the disclaimer needs configuration:edit or configuration:edit_disclaimer.');
}

/** The disclaimer, or undefined when none is set: what the reset page shows to anyone. */
export async function currentDisclaimer(db: Executor): Promise<string | undefined> {
  return settings.read(db, 'disclaimer');
}

/** GET /config/disclaimer: the text, or 404 when none is set. */
export async function readDisclaimer(db: Executor, by: Actor): Promise<string> {
  await assertMayViewDisclaimer(db, by);
  const disclaimer = await currentDisclaimer(db);
  if (disclaimer === undefined) throw notFound('A disclaimer');
  return disclaimer;
}

/** POST /command/config/set-disclaimer: replaces the text (an empty one is a set, empty disclaimer, as in PE). */
export async function setDisclaimer(db: Db, by: Actor, disclaimer: string, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDisclaimer(trx, by);
    await settings.write(trx, 'disclaimer', disclaimer, Date.now());
    await recordEvent(trx, { type: 'disclaimer-set', actor: context.actor, sourceAddress: context.sourceAddress, details: { disclaimer } });
  });
}

/** POST /command/config/remove-disclaimer: unsets it; recorded only when there was one. */
export async function removeDisclaimer(db: Db, by: Actor, context: Context): Promise<void> {
  await inTransaction(db, async (trx) => {
    await assertRequesterActive(trx, by);
    await assertMayEditDisclaimer(trx, by);
    if (await settings.remove(trx, 'disclaimer')) {
      await recordEvent(trx, { type: 'disclaimer-removed', actor: context.actor, sourceAddress: context.sourceAddress });
    }
  });
}
