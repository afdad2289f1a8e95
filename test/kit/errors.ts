// The error body every refusal has — {kind, msg, details?} as JSON
// (docs/decisions.md, Requests and errors) — checked the same way by every suite.

import assert from 'node:assert/strict';

export interface ErrorBody {
  kind: string;
  msg: string;
  details?: unknown;
}

/** Asserts status, JSON content type, the kind, a non-empty msg and no keys beyond kind, msg, details; returns the body. */
export function assertError(response: { statusCode: number; headers: Record<string, unknown>; body?: string; json(): unknown }, status: number, kind: string): ErrorBody {
  assert.equal(response.statusCode, status, `expected ${status} ${kind}, got ${response.statusCode} ${response.body ?? ''}`);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = response.json() as ErrorBody;
  assert.equal(body.kind, kind);
  assert.equal(typeof body.msg, 'string');
  assert.ok(body.msg.length > 0, 'msg is not empty');
  assert.deepEqual(
    Object.keys(body).filter((key) => !['kind', 'msg', 'details'].includes(key)),
    [],
    'no keys beyond kind, msg, details',
  );
  return body;
}

/** The rule-identifiers of PE's failure list in a refusal's details (400 invalid-password, or schema-violation for a login), in order. */
export function failedRules(body: ErrorBody): string[] {
  const failures = (body.details as { failures?: { 'rule-identifier': string }[] } | undefined)?.failures;
  assert.ok(Array.isArray(failures), `details.failures in ${JSON.stringify(body)}`);
  return failures.map((failure) => failure['rule-identifier']);
}
