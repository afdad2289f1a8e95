// Recognising a unique-constraint refusal on either database, so that two
// concurrent creates of one name end in a 409 for the loser, not a 500.

export function isUniqueViolation(error: unknown, table: string, column: string): boolean {
  const { code, constraint, message } = (error ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  if (code === '23505') return constraint === `${table}_${column}_key`; // PostgreSQL's name for a column's UNIQUE
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes(`${table}.${column}`);
}
