/**
 * The folder graph of src/ as docs/architecture.md states it: no import cycle between folders, and a folder is
 * entered through its index.ts, except the few reaches the doc lists (each named here, so a new one fails).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of src/: [from file, to file], both relative to src/. */
function imports(): [string, string][] {
  const out: [string, string][] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      out.push([path.relative(SRC, file), path.relative(SRC, path.resolve(path.dirname(file), m[1]!))]);
    }
  }
  return out;
}
const folderOf = (rel: string) => (rel.includes(path.sep) ? rel.split(path.sep)[0]! : null);

/** Reaches behind an index.ts that docs/architecture.md names. */
const ALLOWED_INTERNAL = [
  /^ab\/.* -> extraction\/(score|schema|examples)\.ts$/,
  /^ab\/.* -> extraction\/(signals|hardening)\//,
  /^telegram\/.* -> config\/(channels|timezone)\.ts$/,
  /^cli\/.* -> telegram\/sample-feed\.ts$/,
  /^cli\/.* -> web\/server\.ts$/,
];

describe('architecture (docs/architecture.md)', () => {
  const edges = imports();

  it('no import cycle between the folders of src/', () => {
    const graph = new Map<string, Set<string>>();
    for (const [from, to] of edges) {
      const [a, b] = [folderOf(from), folderOf(to)];
      if (!a || !b || a === b) continue;
      graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    expect(graph.size).toBeGreaterThan(10);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, trail: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      for (const m of graph.get(n) ?? []) visit(m, [...trail, n]);
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });

  it("a folder is entered through its index.ts (or a listed exception), never another folder's internals", () => {
    const reaches = edges
      .filter(([from, to]) => {
        const [a, b] = [folderOf(from), folderOf(to)];
        return a && b && a !== b && path.basename(to) !== 'index.ts';
      })
      .map(([from, to]) => `${from} -> ${to}`)
      .filter((e) => !ALLOWED_INTERNAL.some((re) => re.test(e)));
    expect(reaches).toEqual([]);
  });
});
