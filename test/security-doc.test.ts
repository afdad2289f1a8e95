// Keeps docs/security.md honest. Every test it cites (`test/<file>.test.ts` ›
// `<name>`) must exist under that name; every ASVS row must cite a test or
// give a reason; the rows must cover every Level 2 requirement of V2 and V3,
// each under its own section; the summary counts must match the rows; every
// threat must point at code and at a test; every path it names must exist;
// and the settings table must show the defaults src/config/config.ts has.
// No database needed: this reads files only.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../src/config/config.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = 'docs/security.md';

const STATUSES = new Set(['Met', 'Partly', 'Not met', 'Not applicable']);

/** Every Level 2 requirement of ASVS 4.0.3 V2 and V3 (Level 3-only ones left out). */
const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}.${from + i}`);
const LEVEL_2 = [
  ...range('2.1', 1, 12),
  ...range('2.2', 1, 3),
  ...range('2.3', 1, 3),
  ...range('2.4', 1, 5),
  ...range('2.5', 1, 7),
  ...range('2.6', 1, 3),
  ...range('2.7', 1, 6),
  ...range('2.8', 1, 7),
  ...range('2.9', 1, 3),
  ...range('2.10', 1, 4),
  '3.1.1',
  ...range('3.2', 1, 4),
  ...range('3.3', 1, 4),
  ...range('3.4', 1, 5),
  ...range('3.5', 1, 3),
  '3.7.1',
];
const LEVEL_3_ONLY = [...range('2.2', 4, 7), '3.6.1', '3.6.2'];

// `test/x.test.ts` › `name` — the name in a code span, so quotes inside it need no escaping.
const CITATION = /`((?:test|test-timing)\/[^`\s]+\.ts)` › `([^`]+)`/g;
const PATH = /`((?:src|web|docs|scripts|test|test-timing)\/[^`\s]*[^`\s/])`/g;

interface Citation {
  file: string;
  name: string;
}

interface Row {
  cells: string[];
  line: number;
  headings: string[];
}

interface Section {
  headings: string[];
  text: string;
}

/** Splits a table row into trimmed cells, ignoring pipes inside code spans. */
function cellsOf(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let inCode = false;
  for (const char of line.trim().replace(/^\|/, '').replace(/\|$/, '')) {
    if (char === '`') inCode = !inCode;
    if (char === '|' && !inCode) {
      cells.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  cells.push(current.trim());
  return cells;
}

function citationsIn(text: string): Citation[] {
  return [...text.matchAll(CITATION)].map((match) => ({ file: match[1] as string, name: match[2] as string }));
}

function parse(markdown: string) {
  const rows: Row[] = [];
  const sections: Section[] = [];
  const headings: string[] = []; // headings[level - 1]
  let inFence = false;
  let section: Section = { headings: [], text: '' };
  markdown.split('\n').forEach((line, index) => {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = inFence ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (heading) {
      const level = (heading[1] as string).length;
      headings.length = level - 1;
      headings[level - 1] = (heading[2] as string).trim();
      sections.push(section);
      section = { headings: [...headings], text: '' };
      return;
    }
    section.text += `${line}\n`;
    if (!inFence && line.startsWith('|') && !/^\|[\s:|-]+\|\s*$/.test(line)) {
      rows.push({ cells: cellsOf(line), line: index + 1, headings: [...headings] });
    }
  });
  sections.push(section);
  return { rows, sections };
}

const markdown = readFileSync(path.join(ROOT, DOC), 'utf8');
const { rows, sections } = parse(markdown);
const requirementRows = rows.filter((row) => /^\d+\.\d+\.\d+$/.test(row.cells[0] ?? ''));

const sourceCache = new Map<string, string | undefined>();
function source(file: string): string | undefined {
  if (!sourceCache.has(file)) {
    const full = path.join(ROOT, file);
    sourceCache.set(file, existsSync(full) ? readFileSync(full, 'utf8') : undefined);
  }
  return sourceCache.get(file);
}

/** What is wrong with a citation, or undefined. A `<placeholder>` (the format's own description) is not checked. */
function citationProblem({ file, name }: Citation): string | undefined {
  if (file.includes('<')) return undefined;
  const text = source(file);
  if (text === undefined) return `${file} does not exist`;
  if (name.trim().length < 8) return `the test name "${name}" is too short to identify a test in ${file}`;
  if (!text.includes(name)) return `${file} has no test named "${name}"`;
  return undefined;
}

const where = (row: Row) => `row ${row.cells[0]} (${DOC} line ${row.line})`;

describe(`${DOC} stays true to the code and the tests`, () => {
  test('every cited test file exists and contains the cited test name', () => {
    const problems: string[] = [];
    for (const row of rows) {
      for (const citation of citationsIn(row.cells.join(' | '))) {
        const problem = citationProblem(citation);
        if (problem) problems.push(`${where(row)}: ${problem}`);
      }
    }
    for (const section of sections) {
      const prose = section.text
        .split('\n')
        .filter((line) => !line.startsWith('|'))
        .join('\n');
      for (const citation of citationsIn(prose)) {
        const problem = citationProblem(citation);
        if (problem) problems.push(`section "${section.headings.at(-1) ?? '(top)'}": ${problem}`);
      }
    }
    assert.ok(citationsIn(markdown).length >= 50, `${DOC} cites tests (${citationsIn(markdown).length} citations)`);
    assert.deepEqual(problems, [], `broken citations:\n${problems.join('\n')}`);
  });

  test('every › belongs to a well-formed citation', () => {
    const arrows = markdown.split('›').length - 1;
    const citations = citationsIn(markdown).length;
    const stray = markdown
      .split('\n')
      .map((line, index) => ({ line, number: index + 1 }))
      .filter(({ line }) => (line.split('›').length - 1) !== citationsIn(line).length)
      .map(({ line, number }) => `line ${number}: ${line.slice(0, 120)}`);
    assert.equal(arrows, citations, `malformed citations (expected \`test/<file>.test.ts\` › \`<name>\`):\n${stray.join('\n')}`);
  });

  test('every ASVS row has a known status and either a test citation or a reason', () => {
    const problems: string[] = [];
    for (const row of requirementRows) {
      if (row.cells.length !== 5) {
        problems.push(`${where(row)}: expected 5 cells (# | requirement | status | tests | notes), found ${row.cells.length}`);
        continue;
      }
      const [, requirement, status, tests, reason] = row.cells as [string, string, string, string, string];
      if (requirement === '') problems.push(`${where(row)}: no paraphrase of the requirement`);
      if (!STATUSES.has(status)) problems.push(`${where(row)}: status "${status}" is not one of ${[...STATUSES].join(', ')}`);
      const cited = citationsIn(tests).length;
      if (tests !== '' && cited === 0) problems.push(`${where(row)}: the tests cell holds no citation in the form \`test/<file>.test.ts\` › \`<name>\``);
      if (cited === 0 && reason.replace(/[—–-]/g, '').trim() === '') problems.push(`${where(row)}: neither a test nor a reason`);
      if (status !== 'Met' && reason.trim() === '') problems.push(`${where(row)}: a "${status}" row must say why`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the V2 and V3 tables list every Level 2 requirement once, each in its own section', () => {
    const ids = requirementRows.map((row) => row.cells[0] as string);
    const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
    assert.deepEqual(duplicates, [], `listed more than once: ${duplicates.join(', ')}`);
    const missing = LEVEL_2.filter((id) => !ids.includes(id));
    assert.deepEqual(missing, [], `Level 2 requirements missing from ${DOC}: ${missing.join(', ')}`);
    const unknown = ids.filter((id) => !LEVEL_2.includes(id));
    assert.deepEqual(unknown, [], `not Level 2 requirements of V2/V3 (Level 3-only ones are left out): ${unknown.join(', ')}`);
    for (const id of LEVEL_3_ONLY) assert.ok(markdown.includes(id), `${DOC} says that Level 3-only ${id} is left out`);

    const misplaced = requirementRows
      .filter((row) => {
        const id = row.cells[0] as string;
        const chapter = `V${id.split('.')[0]} `;
        const section = `V${id.split('.').slice(0, 2).join('.')} `;
        return !row.headings.some((heading) => heading.startsWith(chapter)) || !row.headings.some((heading) => heading.startsWith(section));
      })
      .map((row) => `${where(row)} is under "${row.headings.join(' › ')}"`);
    assert.deepEqual(misplaced, [], `rows outside their chapter and section heading:\n${misplaced.join('\n')}`);
  });

  test('the summary counts match the table', () => {
    const summary = /Summary: (\d+) requirements — (\d+) Met, (\d+) Partly, (\d+) Not met, (\d+) Not applicable\./.exec(markdown);
    assert.ok(summary, `${DOC} has a line "Summary: N requirements — N Met, N Partly, N Not met, N Not applicable."`);
    const count = (status: string) => requirementRows.filter((row) => row.cells[2] === status).length;
    const table = [requirementRows.length, count('Met'), count('Partly'), count('Not met'), count('Not applicable')];
    assert.deepEqual(
      summary.slice(1).map(Number),
      table,
      `the summary should read: ${table[0]} requirements — ${table[1]} Met, ${table[2]} Partly, ${table[3]} Not met, ${table[4]} Not applicable.`,
    );
  });

  test('each threat points at the code and at a test', () => {
    const threats = sections.filter((section) => section.headings[2] === 'Threats and mitigations' && section.headings.length === 4);
    assert.ok(threats.length >= 8, `${DOC} describes its threats under "### Threats and mitigations" (${threats.length} found)`);
    const problems: string[] = [];
    for (const threat of threats) {
      const name = threat.headings[3];
      if (citationsIn(threat.text).length === 0) problems.push(`threat "${name}": no test cited`);
      if (![...threat.text.matchAll(PATH)].some((match) => (match[1] as string).startsWith('src/'))) problems.push(`threat "${name}": no src/ path`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('every path named in the document exists', () => {
    const missing = [...new Set([...markdown.matchAll(PATH)].map((match) => match[1] as string))].filter(
      (named) => !/[<…]/.test(named) && !existsSync(path.join(ROOT, named)),
    );
    assert.deepEqual(missing, [], `paths in ${DOC} that do not exist: ${missing.join(', ')}`);
  });

  test('the settings table names real settings with their real defaults', () => {
    const settingsRows = rows.filter((row) => row.headings[1]?.includes('Security-relevant settings') && row.cells[0] !== 'setting');
    assert.ok(settingsRows.length >= 10, `${DOC} has a settings table (${settingsRows.length} rows)`);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const row of settingsRows) {
      const keys = [...(row.cells[0] ?? '').matchAll(/`([a-z-]+)`/g)].map((match) => match[1] as string);
      if (keys.length === 0) problems.push(`${where(row)}: no setting key in the first cell`);
      for (const key of keys) {
        seen.add(key);
        const setting = SETTINGS.find((candidate) => candidate.key === key);
        if (!setting) {
          problems.push(`${where(row)}: "${key}" is not a setting in src/config/config.ts`);
          continue;
        }
        const expected = setting.default === undefined ? 'unset' : `\`${String(setting.default)}\``;
        if (row.cells[1] !== expected) problems.push(`${where(row)}: the default of ${key} is ${expected}, the table says ${row.cells[1]}`);
      }
      if ((row.cells[3] ?? '') === '') problems.push(`${where(row)}: no advice`);
    }
    for (const key of ['failed-attempts-lockout', 'password-reset-expiration', 'token-auth-lifetime', 'token-maximum-lifetime', 'password-minimum-length', 'rate-limit-per-address', 'rate-limit-per-account', 'tls-cert', 'tls-key', 'insecure-http', 'metrics-host', 'metrics-port']) {
      if (!seen.has(key)) problems.push(`the settings table lacks ${key}`);
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});

// README.md and docs/*.md travel with the repository: a link must not lead out
// of it (a sibling checkout such as ../shared/… exists only on one machine),
// and an in-repository link must name a file that exists.
describe('README.md and docs/ link only inside the repository', () => {
  const documents = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
  // [text](target) and [text]: target, outside code fences and code spans.
  const LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\s*\[[^\]]+\]:\s*(\S+)/gm;

  function linksOf(markdown: string): string[] {
    const prose = markdown
      .replace(/^```[\s\S]*?^```/gm, '')
      .replace(/`[^`\n]*`/g, '');
    return [...prose.matchAll(LINK)].map((match) => (match[1] ?? match[2]) as string);
  }

  test('no markdown link points outside the repository or at a missing file', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const document of documents) {
      for (const link of linksOf(readFileSync(path.join(ROOT, document), 'utf8'))) {
        if (/^(https?|mailto):/i.test(link) || link.startsWith('#')) continue;
        checked++;
        if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('/')) {
          problems.push(`${document}: ${link} is not a link relative to the repository`);
          continue;
        }
        const target = path.resolve(ROOT, path.dirname(document), decodeURIComponent(link.split('#')[0] as string));
        const relative = path.relative(ROOT, target);
        if (relative.startsWith('..') || path.isAbsolute(relative)) problems.push(`${document}: ${link} leads outside the repository`);
        else if (!existsSync(target)) problems.push(`${document}: ${link} names a file that does not exist`);
      }
    }
    assert.ok(checked >= 10, `README.md and docs/ link to each other (${checked} links checked)`);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('the check catches a link out of the repository', () => {
    assert.deepEqual(linksOf('see [the contract](../shared/spec/CONTRACT.md) and `[x](../y)`'), ['../shared/spec/CONTRACT.md']);
  });
});
