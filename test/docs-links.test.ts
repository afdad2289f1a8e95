// The docs a newcomer walks (issue 28): README's first screen is the two
// commands and a link to the docs index; the index links every task page; and
// every relative link in README.md and docs/*.md leads to a file that exists,
// and an #anchor to a heading that file has (GitHub's heading ids). No
// database needed: this reads files only.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

const TASK_PAGES = ['getting-started.md', 'install.md', 'several-instances.md', 'ldap.md', 'certificates.md', 'backup-and-upgrade.md'];

/** The text outside fenced code blocks (a `#` in a shell block is no heading, a `[x](y)` there no link). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2. */
function headingIds(markdown: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, title] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = (title as string)
      .toLowerCase()
      .replace(/`/g, '')
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    ids.add(count === 0 ? base : `${base}-${count}`);
  }
  return ids;
}

/** The relative links of a markdown file: [text](target), without http(s) and mailto ones. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string).filter((target) => !/^(https?:|mailto:)/.test(target));
}

test("README's first screen: the two commands, then a link to the docs index", () => {
  const readme = read('README.md');
  const firstHeading = readme.indexOf('\n#', 1);
  const firstScreen = readme.slice(0, firstHeading === -1 ? undefined : firstHeading).split('\n').slice(0, 20).join('\n');
  const block = /```sh\n([\s\S]*?)```/.exec(firstScreen)?.[1] ?? '';
  assert.deepEqual(
    block.trim().split('\n').map((line) => line.split('#')[0]?.trim()),
    ['npm ci && npm start', 'npm test'],
    'the first code block is the two commands',
  );
  assert.match(firstScreen, /\]\(docs\/index\.md\)/, 'the first screen links the docs index');
});

test('the docs index links every task page, and each task page exists and links back into the docs', () => {
  const index = read('docs/index.md');
  for (const page of TASK_PAGES) {
    assert.ok(existsSync(path.join(ROOT, 'docs', page)), `docs/${page} exists`);
    assert.ok(relativeLinks(index).includes(page), `docs/index.md links ${page}`);
    assert.ok(relativeLinks(read(`docs/${page}`)).length > 0, `docs/${page} links to where the details are`);
  }
  // The certificates page points at the operations guide's section on PE services' certificates.
  assert.match(read('docs/certificates.md'), /\]\(operations\.md[)#]/);
});

test('every relative link in README.md and docs/*.md leads to an existing file, and every #anchor to one of its headings', () => {
  const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
  const broken: string[] = [];
  for (const file of files) {
    for (const target of relativeLinks(read(file))) {
      const [linkPath, anchor] = target.split('#') as [string, string | undefined];
      const resolved = linkPath === '' ? file : path.relative(ROOT, path.resolve(ROOT, path.dirname(file), linkPath));
      if (!existsSync(path.join(ROOT, resolved))) {
        broken.push(`${file}: ${target} (no file ${resolved})`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !headingIds(read(resolved)).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
