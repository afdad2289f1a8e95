// PE's events.csv: one row per event, PE's columns. csv-stringify does the
// quoting (RFC 4180); the guard below keeps a spreadsheet from running a
// cell as a formula: logins, names and messages come from users, and a
// login such as `=HYPERLINK(…)` must open as text (OWASP's CSV injection).

import { stringify } from 'csv-stringify/sync';
import { inSlices } from '../event-loop.js';
import type { Commit } from './activity.js';

const COLUMNS = ['Submit Time', 'Subject Type', 'Subject Id', 'Subject Name', 'Object Type', 'Object Id', 'Object Name', 'Type', 'What', 'Description', 'Message'];

// What a spreadsheet takes as the start of a formula (and tab and CR, which some strip before looking).
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet shows as text: a leading ' makes it a string. */
export function inertCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

const CSV_OPTIONS = { cast: { string: inertCell } };

/** PE's Submit Time: `2026-12-02 09:30:00.000`, UTC. */
const submitTime = (at: Date) => at.toISOString().replace('T', ' ').replace('Z', '');

/** The commits as CSV, a header row first; made a slice of rows at a time, the event loop free to turn between them (CONTRACT §7). */
export async function activityCsv(commits: readonly Commit[], options: { address: boolean }): Promise<string> {
  const cellsOf = (commit: Commit) => {
    const [object] = commit.objects;
    const row = [
      submitTime(commit.timestamp),
      commit.subject.id === null ? '' : 'users',
      commit.subject.id ?? '',
      commit.subject.name ?? '',
      object?.type ?? '',
      object?.id ?? '',
      object?.name ?? '',
      commit.event.type,
      commit.event.what,
      commit.event.description,
      commit.event.message,
    ];
    return options.address ? [...row, commit.address ?? ''] : row;
  };
  const parts = [stringify([options.address ? [...COLUMNS, 'Ip Address'] : COLUMNS], CSV_OPTIONS)];
  for await (const slice of inSlices(commits, 100)) parts.push(stringify(slice.map(cellsOf), CSV_OPTIONS));
  return parts.join('');
}
