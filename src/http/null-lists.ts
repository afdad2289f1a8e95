// Lists sent as null are empty lists (CONTRACT §10): PE's schema library
// accepts null for a list, and PE's Go client sends it for every empty
// slice (a role made with no permissions, users or groups). So, in every
// body, a top-level field whose shape is a list (src/shapes.ts) and whose
// value is null becomes [] before the body is validated: the domain sees the
// empty list, and an edit that sends null leaves the object with none. A
// null anywhere else is still what its shape says (400 when it allows none).

import type { FastifyReply, FastifyRequest } from 'fastify';

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

/** The names of the body's list fields, by route: read from its schema once. */
const listFieldsByRoute = new WeakMap<object, string[]>();

function listFieldsOf(schema: ObjectSchema): string[] {
  let fields = listFieldsByRoute.get(schema);
  if (!fields) {
    fields = Object.entries(schema.properties ?? {})
      .filter(([, property]) => property.type === 'array')
      .map(([name]) => name);
    listFieldsByRoute.set(schema, fields);
  }
  return fields;
}

/** A preValidation hook (callback-style): a list field sent as null becomes []. */
export function nullListsAsEmpty(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const body = request.body;
  // request.routeOptions is built anew on each read: only when there is a body to look at.
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return done();
  const schema = request.routeOptions.schema?.body as ObjectSchema | undefined;
  if (schema) {
    const fields = body as Record<string, unknown>;
    for (const name of listFieldsOf(schema)) if (fields[name] === null) fields[name] = [];
  }
  done();
}
