import { CreateExercisePackRequest, type PackExercise } from '@taidon/contracts';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { ExercisesError } from '../../errors.js';

/**
 * Exercises as files (issue 18, ADR 0036), the form a pack takes on disk and
 * in a project:
 *
 * ```
 * pack.yaml                       slug, title, exercises: [<slug>, …] (their order)
 * setup.sql                       the start state every exercise shares
 * datasets/<name>.sql             hidden datasets any exercise may name
 * exercises/<slug>/exercise.yaml  title, kind?, datasets: [<name>, …], compare?, minKillScore?, equivalentMutants?
 * exercises/<slug>/task.md        the task, in Markdown
 * exercises/<slug>/solution.sql   the reference solution
 * exercises/<slug>/datasets/<name>.sql   a dataset of this exercise alone (found before the pack's)
 * ```
 *
 * Files are given as a map of paths (relative to the pack's root, `/`
 * separated) to their text; reading them (a directory, a project at a
 * commit) is the caller's, and so are its bounds.
 */
export type PackFiles = ReadonlyMap<string, string>;

/** Files of one pack read at most: every exercise's four and its datasets, with room. */
export const MAX_PACK_FILES = 2_000;

/** What a pack's files say besides the SQL and text, before the contract's schema checks it. */
interface ExerciseYaml {
  title?: unknown;
  kind?: unknown;
  datasets?: unknown;
  compare?: unknown;
  minKillScore?: unknown;
  equivalentMutants?: unknown;
}

function fileError(path: string, message: string): ExercisesError {
  return new ExercisesError('EXERCISES_PACK_FILE', `${path}: ${message}`, { details: { path } });
}

function required(files: PackFiles, path: string): string {
  const text = files.get(path);
  if (text === undefined) throw fileError(path, 'missing');
  return text;
}

function yamlObject(files: PackFiles, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(required(files, path), { maxAliasCount: 10 });
  } catch (error) {
    throw fileError(path, `not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fileError(path, 'not a mapping');
  return value as Record<string, unknown>;
}

const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/** One exercise's files as the pack's exercise; its datasets found beside it, else in the pack's `datasets/`. */
function exerciseOf(files: PackFiles, slug: string): PackExercise {
  const dir = `exercises/${slug}`;
  const yaml = yamlObject(files, `${dir}/exercise.yaml`) as ExerciseYaml;
  if (typeof yaml.title !== 'string') throw fileError(`${dir}/exercise.yaml`, '`title` must be a string');
  const names = yaml.datasets ?? [];
  if (!strings(names)) throw fileError(`${dir}/exercise.yaml`, '`datasets` must be a list of names');
  const datasets = names.map((name) => {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw fileError(`${dir}/exercise.yaml`, `bad dataset name ${name}`);
    const own = files.get(`${dir}/datasets/${name}.sql`);
    return { name, sql: own ?? required(files, `datasets/${name}.sql`) };
  });
  return {
    slug,
    title: yaml.title,
    task: required(files, `${dir}/task.md`),
    ...(yaml.kind !== undefined ? { kind: yaml.kind as PackExercise['kind'] } : {}),
    solution: required(files, `${dir}/solution.sql`),
    ...(datasets.length > 0 ? { datasets } : {}),
    ...(yaml.compare !== undefined ? { compare: yaml.compare as PackExercise['compare'] } : {}),
    ...(yaml.minKillScore !== undefined ? { minKillScore: yaml.minKillScore as number } : {}),
    ...(yaml.equivalentMutants !== undefined ? { equivalentMutants: yaml.equivalentMutants as string[] } : {}),
  };
}

/**
 * The pack its files describe (EXERCISES_PACK_FILE naming the file when one
 * is missing or malformed). The result is checked as any pack is, by the
 * contract's schema and the import's bounds; without `exercises` in
 * pack.yaml, every `exercises/<slug>/exercise.yaml` in name order.
 */
export function packFromFiles(files: PackFiles): Omit<CreateExercisePackRequest, 'publish'> {
  if (files.size > MAX_PACK_FILES) throw fileError('.', `more than ${MAX_PACK_FILES} files`);
  const pack = yamlObject(files, 'pack.yaml');
  if (typeof pack.slug !== 'string' || typeof pack.title !== 'string') {
    throw fileError('pack.yaml', '`slug` and `title` must be strings');
  }
  let slugs = pack.exercises;
  if (slugs === undefined) {
    slugs = [...files.keys()]
      .map((path) => /^exercises\/([^/]+)\/exercise\.yaml$/.exec(path)?.[1])
      .filter((slug): slug is string => slug !== undefined)
      .sort();
  }
  if (!strings(slugs)) throw fileError('pack.yaml', '`exercises` must be a list of exercise slugs');
  const built = {
    slug: pack.slug,
    title: pack.title,
    setup: { sql: required(files, 'setup.sql') },
    exercises: slugs.map((slug) => exerciseOf(files, slug)),
  };
  checkContract(files, built);
  return built;
}

/**
 * The pack built from files checked by the contract's schema, as a pack sent as JSON is by the route (its
 * comparison, kind, kill score, marked mutants, dataset count, check query's size, table names): the first
 * error is EXERCISES_PACK_FILE naming the file the value came from and its field.
 */
function checkContract(files: PackFiles, pack: Omit<CreateExercisePackRequest, 'publish'>): void {
  if (Value.Check(CreateExercisePackRequest, pack)) return;
  const [first] = Value.Errors(CreateExercisePackRequest, pack);
  const pointer = first?.instancePath ?? '';
  const [, top, index, field, ...rest] = pointer.split('/');
  let path = 'pack.yaml';
  let name = [top, index, field, ...rest].filter((p) => p !== undefined && p !== '').join('.');
  if (top === 'setup') {
    path = 'setup.sql';
    name = '';
  } else if (top === 'exercises' && index !== undefined && field !== undefined) {
    const exercise = pack.exercises[Number(index)];
    const dir = `exercises/${exercise?.slug}`;
    if (field === 'task') path = `${dir}/task.md`;
    else if (field === 'solution') path = `${dir}/solution.sql`;
    else if (field === 'datasets' && rest[1] === 'sql') {
      const dataset = exercise?.datasets?.[Number(rest[0])]?.name;
      const own = `${dir}/datasets/${dataset}.sql`;
      path = files.has(own) ? own : `datasets/${dataset}.sql`;
    } else path = `${dir}/exercise.yaml`;
    name = field === 'task' || field === 'solution' || rest[1] === 'sql' ? '' : [field, ...rest].join('.');
    if (field === 'slug') path = 'pack.yaml';
  }
  const message = first?.message ?? 'does not match the pack contract';
  throw new ExercisesError('EXERCISES_PACK_FILE', `${path}: ${name ? `\`${name}\` ` : ''}${message}`, {
    details: { path, ...(name ? { field: name } : {}) },
  });
}
