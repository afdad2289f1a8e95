// The house rules of src/: dependencies between capability folders point one
// way (no two folders, directly or around a loop, import each other), and
// only src/store/ speaks SQL (the lint rule says so too; this also catches a
// `sql` template or a query built from an executor handed in from elsewhere).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** A file's node in the graph: its top folder under src/, or the file itself at the top. */
const nodeOf = (file: string) => path.relative(SRC, file).split(path.sep)[0] as string;

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = nodeOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = nodeOf(path.resolve(path.dirname(file), (spec as string).replace(/\.js$/, '.ts')));
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
    }
  }
  return graph;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    trail.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...trail.slice(trail.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    trail.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

test('no import cycle between the capability folders of src/', () => {
  const graph = folderGraph();
  assert.ok(graph.size > 5, 'the graph was read');
  assert.deepEqual(findCycle(graph), undefined);
});

test('the cycle check finds a cycle when there is one', () => {
  const graph = new Map([
    ['users', new Set(['roles'])],
    ['roles', new Set(['store', 'users'])],
  ]);
  assert.deepEqual(findCycle(graph), ['users', 'roles', 'users']);
});

test('only src/store/ builds queries', () => {
  const speaking = sourceFiles(SRC)
    .filter((file) => nodeOf(file) !== 'store')
    .filter((file) => /\.(selectFrom|updateTable|insertInto|deleteFrom)\(|\bsql`|from 'kysely'/.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(SRC, file));
  assert.deepEqual(speaking, []);
});
