import type { Kysely } from 'kysely';

// The activity service's two common questions, answered without reading the
// whole audit trail: what a user did (PE's subject, the actor here) and what
// was done to a user (PE's object, the subject here; every user who is not a
// superuser asks it of their own events), each newest first.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_id', 'at', 'id']).execute();
  await db.schema.createIndex('audit_events_subject').on('audit_events').columns(['subject_id', 'at', 'id']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_events_subject').execute();
  await db.schema.dropIndex('audit_events_actor').execute();
}
