// Recognising a unique-constraint refusal on either database, so that two
// concurrent creates of one name end in a 409 for the loser, not a 500.

export function isUniqueViolation(error: unknown, table: string, column: string): boolean {
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return constraint === `${table}_${column}_key`; // PostgreSQL's name for a column's UNIQUE
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes(`${table}.${column}`);
}

/**
 * A write refused by a constraint (unique, foreign key) that no specific
 * check expected: two requests changed the same rows at once, e.g. a role
 * given to a user being deleted. The client may retry; it is no server error.
 */
export function isConstraintViolation(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return code === '23505' || code === '23503' || (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'));
}

/** PostgreSQL gave up on a transaction because of another one (deadlock, serialization): running it again succeeds. */
export function isTransientConflict(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return code === '40P01' || code === '40001';
}
