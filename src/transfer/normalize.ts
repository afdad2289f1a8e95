// Directory settings as another service gave them, in this service's form:
// PE's keys picked out (PE adds others), checked as POST /command/ldap/create
// checks them, PE's defaults filled in.

import { randomUUID } from 'node:crypto';
import { Value } from 'typebox/value';
import { settingsFrom } from '../directory/directories.js';
import { ServiceError } from '../errors.js';
import { NewDirectoryBody, type DirectorySettings } from '../shapes.js';

const SETTING_KEYS = Object.keys(NewDirectoryBody.properties).filter((key) => key !== 'password' && key !== 'id');

/**
 * The settings of one directory. PE's older /v1/ds has no id: such a
 * directory gets a new one (docs/moving-from-pe.md).
 */
export function normalizedDirectory(given: Record<string, unknown>, where: string): DirectorySettings {
  const picked: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (given[key] !== undefined) picked[key] = given[key];
  if (!Value.Check(NewDirectoryBody, picked)) {
    const fault = [...Value.Errors(NewDirectoryBody, picked)][0];
    throw new ServiceError('schema-violation', `${where}: ${fault ? `${fault.instancePath || '/'} ${fault.message}` : 'not directory settings'}.`);
  }
  const id = typeof given.id === 'string' && given.id.length > 0 ? given.id : randomUUID();
  return settingsFrom(picked as NewDirectoryBody, id);
}
