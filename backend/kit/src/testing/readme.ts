import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ErrorCatalogue } from '../errors.js';

/** Names in the first column of a markdown table's rows, between backticks (codes, environment variables). */
export function documentedNames(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const first = /^\|\s*([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (match[1]) names.add(match[1]);
  }
  return names;
}

/** The rows of a README's `## Errors` section: code → the status its second column says. */
export function errorTable(readme: string): Map<string, number> {
  const section = readme.split(/^## Errors$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, number>();
  for (const line of section.split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (match?.[1] && match[2]) rows.set(match[1], Number(match[2]));
  }
  return rows;
}

/**
 * How a README's errors table departs from the service's catalogue: a code
 * the service answers with and the table lacks, a status the table gets
 * wrong, a row for a code the service no longer has. Empty when they agree.
 */
export function errorTableMismatches(catalogue: ErrorCatalogue, readme: string): string[] {
  const table = errorTable(readme);
  const mismatches: string[] = [];
  for (const [code, spec] of Object.entries(catalogue)) {
    const status = table.get(code);
    if (status === undefined) mismatches.push(`${code} is not in the errors table`);
    else if (status !== spec.status)
      mismatches.push(`${code} is ${status} in the table, ${spec.status} in the catalogue`);
  }
  for (const code of table.keys()) {
    if (!(code in catalogue)) mismatches.push(`${code} is in the errors table but not in the catalogue`);
  }
  return mismatches;
}

/**
 * Every quoted string under `srcDir` (recursively, .ts files) shaped like an
 * error code of one of `prefixes`, such as 'ENV_MANAGER_LAYER_NOT_FOUND': a
 * test checks each is in the catalogue, which catches codes thrown through
 * kit's untyped classes or rebuilt from another service's answer.
 */
export function codeLiteralsIn(srcDir: string, prefixes: readonly string[]): Set<string> {
  const codes = new Set<string>();
  const pattern = new RegExp(`['"\`]((?:${prefixes.join('|')})_[A-Z0-9_]+)['"\`]`, 'g');
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const match of text.matchAll(pattern)) if (match[1]) codes.add(match[1]);
  }
  return codes;
}

/** What a service's README check reads: its directory, catalogue, configuration and code prefix. */
export interface ServiceReadme {
  /** e.g. 'idp'; used in the tests' names. */
  service: string;
  /** The service's directory (`new URL('..', import.meta.url)` from its test folder). */
  root: URL;
  /** `name` of the catalogue in test names, e.g. IDP_ERROR_CODES. */
  catalogueName: string;
  catalogue: ErrorCatalogue;
  configSpec: Record<string, unknown>;
  /** Prefix of the service's own codes, e.g. 'IDP'. */
  prefix: string;
}

/**
 * The checks every service's README gets, declared as tests: every code of
 * the catalogue has its row with its status and no row names a code the
 * service lacks; every configuration variable is documented; every code the
 * source names (also through kit's classes) is in the catalogue.
 */
export function describeServiceReadme(service: ServiceReadme): void {
  const readme = readFileSync(new URL('README.md', service.root), 'utf8');
  describe(`${service.service}: README.md`, () => {
    it('has a row for every code of the catalogue, with its status, and none for a code the service lacks', () => {
      expect(errorTableMismatches(service.catalogue, readme)).toEqual([]);
    });

    it('documents every configuration variable', () => {
      const names = documentedNames(readme);
      expect(Object.keys(service.configSpec).filter((name) => !names.has(name))).toEqual([]);
    });
  });

  describe(service.catalogueName, () => {
    it(`holds every ${service.prefix}_ code the source names, also those thrown through kit classes`, () => {
      const source = codeLiteralsIn(fileURLToPath(new URL('src', service.root)), [service.prefix]);
      const unknown = [...source].filter((code) => !(code in service.catalogue) && !(code in service.configSpec));
      expect(unknown).toEqual([]);
    });
  });
}
