// The shape of the code, checked: no import cycle between source files (type-only
// imports included: a cycle of types is still two files that cannot be read,
// changed or moved apart), and no workspace under backend/ depends on a
// service (the gateway reaches services only over HTTP, through the contracts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const GROUPS = ['backend', 'services', 'apps', 'frontend'];

/** Every workspace directory (one with a package.json) under the groups above. */
function workspaces(): string[] {
  return GROUPS.flatMap((group) =>
    readdirSync(join(ROOT, group))
      .map((name) => join(ROOT, group, name))
      .filter((dir) => {
        try {
          return statSync(join(dir, 'package.json')).isFile();
        } catch {
          return false;
        }
      }),
  );
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The source file a relative specifier names (`./x.js` is written for `./x.ts`), or undefined. */
function resolveRelative(from: string, specifier: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(js|jsx|ts|tsx|mjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/** Import edges between the files of one workspace's src/, every kind of import and re-export. */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => resolveRelative(file, name, known))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One cycle per strongly connected part of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm (recursive: import chains are a few dozen files deep at most).
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, indices.get(next) as number));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const part: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        part.push(member);
      } while (member !== node);
      if (part.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(part);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

describe('the shape of the code', () => {
  it('has no import cycle between the files of any workspace, type-only imports included', () => {
    const found: string[] = [];
    let files = 0;
    for (const dir of workspaces()) {
      const src = join(dir, 'src');
      try {
        statSync(src);
      } catch {
        continue;
      }
      const list = sourceFiles(src);
      files += list.length;
      for (const part of cycles(importGraph(list))) {
        found.push(part.map((f) => relative(ROOT, f)).join(' ↔ '));
      }
    }
    // The scan saw the code base, not an empty folder.
    expect(files).toBeGreaterThan(200);
    expect(found).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const a = join(ROOT, 'a.ts');
    const b = join(ROOT, 'b.ts');
    const c = join(ROOT, 'c.ts');
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [c]],
          [c, [a]],
        ]),
      ).map((p) => p.length),
    ).toEqual([3]);
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [c]],
          [c, []],
        ]),
      ),
    ).toEqual([]);
    // Type-only imports are edges too.
    const info = ts.preProcessFile("import type { X } from './x.js';\nexport * from './y.js';", true, true);
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(['./x.js', './y.js']);
  });

  it('keeps every workspace under backend/ free of dependencies on a service', () => {
    const services = new Set(
      workspaces()
        .filter((dir) => relative(ROOT, dir).startsWith('services/'))
        .map((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name as string),
    );
    expect(services.size).toBeGreaterThanOrEqual(6);
    const offending: string[] = [];
    for (const dir of workspaces().filter((d) => relative(ROOT, d).startsWith('backend/'))) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const deps = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies };
      for (const name of Object.keys(deps)) if (services.has(name)) offending.push(`${pkg.name} → ${name}`);
      // Nor an import of one, by name or by path, from its sources.
      for (const file of sourceFiles(dir)) {
        for (const ref of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
          const name = ref.fileName;
          if ([...services].some((s) => name === s || name.startsWith(`${s}/`)) || /(^|\/)services\//.test(name)) {
            offending.push(`${relative(ROOT, file)} imports ${name}`);
          }
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
