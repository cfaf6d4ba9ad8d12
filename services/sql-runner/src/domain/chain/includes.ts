import { posix } from 'node:path';
import { ChainIncludeError } from './errors.js';
import type { SourceText } from './source-text.js';

/** A project-relative POSIX path without "./" or "." segments; undefined when absolute or escaping the root. */
export function projectPath(path: string): string | undefined {
  if (path.startsWith('/') || path.startsWith('~') || path === '') return undefined;
  const normal = posix.normalize(path);
  if (normal === '..' || normal.startsWith('../')) return undefined;
  return normal.replace(/^(\.\/)+/, '');
}

/** The project path `\i` (root-relative) or `\ir` (relative to the including file) names. */
export function includeTarget(argument: string, from: SourceText, at: number, relative: boolean): string {
  const joined = relative ? posix.join(posix.dirname(from.path), argument) : argument;
  const target = argument.startsWith('/') || argument.startsWith('~') ? undefined : projectPath(joined);
  if (target === undefined) {
    const { line } = from.point(at);
    throw new ChainIncludeError(
      'SQL_RUNNER_INCLUDE_OUTSIDE_PROJECT',
      `include of "${argument}" on line ${line} of ${from.path} leaves the project`,
      from.location(at),
      argument,
    );
  }
  return target;
}

/** The included file, checking that it exists and that includes do not nest too deep. */
export function readInclude(
  target: string,
  from: SourceText,
  at: number,
  depth: number,
  sources: Map<string, SourceText>,
  maxDepth: number,
): SourceText {
  const { line } = from.point(at);
  const included = sources.get(target);
  if (!included) {
    throw new ChainIncludeError(
      'SQL_RUNNER_INCLUDE_NOT_FOUND',
      `included file "${target}" on line ${line} of ${from.path} does not exist`,
      from.location(at),
      target,
    );
  }
  if (depth + 1 > maxDepth) {
    throw new ChainIncludeError(
      'SQL_RUNNER_INCLUDE_TOO_DEEP',
      `include of "${target}" on line ${line} of ${from.path} nests deeper than ${maxDepth} levels (an include cycle?)`,
      from.location(at),
      target,
      { limit: 'includeDepth', max: maxDepth },
    );
  }
  return included;
}
