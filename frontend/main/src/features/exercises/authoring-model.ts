import type { AuthoredExercise, CreateExerciseRequest } from '@taidon/contracts';

/** The authoring form's fields as typed. */
export interface DraftFields {
  slug: string;
  title: string;
  task: string;
  setupSql: string;
  solution: string;
  datasets: { name: string; sql: string }[];
  /** As typed: empty means the service's default (0). */
  minKillScore: string;
  ordered: 'default' | 'yes' | 'no';
  columnNames: boolean;
  /** `auto`: the service's default (write when tables, a check or the schema are named, else query). */
  kind: 'auto' | 'query' | 'write';
  /** Write exercises: tables compared row by row, separated by commas or spaces. */
  tables: string;
  /** Write exercises: one SELECT run after the answer, compared as a query answer is. */
  check: string;
  /** Write and DDL exercises: the catalog (columns, constraints, indexes) compared too. */
  schema: boolean;
  /** Labels of the mutants the author marked equivalent (from the report, not typed): kept through an edit. */
  equivalentMutants: string[];
}

/** An empty form. */
export const EMPTY_DRAFT: DraftFields = {
  slug: '',
  title: '',
  task: '',
  setupSql: '',
  solution: '',
  datasets: [],
  minKillScore: '',
  ordered: 'default',
  columnNames: false,
  kind: 'auto',
  tables: '',
  check: '',
  schema: false,
  equivalentMutants: [],
};

/** The form's fields of an exercise its author edits (a draft, or a published one whose next publish takes them). */
export function fieldsOf(exercise: AuthoredExercise): DraftFields {
  const compare = exercise.compare;
  return {
    slug: exercise.slug,
    title: exercise.title,
    task: exercise.task,
    setupSql: exercise.setup.sql,
    solution: exercise.solution,
    datasets: exercise.datasets.map((d) => ({ name: d.name, sql: d.sql })),
    minKillScore: exercise.minKillScore === 0 ? '' : String(exercise.minKillScore),
    ordered: compare.ordered === undefined ? 'default' : compare.ordered ? 'yes' : 'no',
    columnNames: compare.columnNames === true,
    kind: exercise.kind,
    tables: (compare.tables ?? []).join(', '),
    check: compare.check ?? '',
    schema: compare.schema === true,
    equivalentMutants: [...exercise.equivalentMutants],
  };
}

/** The body that changes an exercise only by marking one more of its mutants equivalent. */
export function withEquivalentMutant(exercise: AuthoredExercise, label: string): CreateExerciseRequest | undefined {
  const fields = fieldsOf(exercise);
  if (!fields.equivalentMutants.includes(label)) fields.equivalentMutants.push(label);
  const request = draftRequestOf(fields);
  return 'body' in request ? request.body : undefined;
}

/**
 * The `POST /api/exercises` body of the form, or the sentence saying what to
 * fix first (the service checks everything again; this spares a round trip
 * for what the form can tell).
 */
export function draftRequestOf(fields: DraftFields): { body: CreateExerciseRequest } | { problem: string } {
  const slug = fields.slug.trim();
  if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(slug)) {
    return {
      problem: 'The slug is lower-case letters, digits and dashes (at most 64), not starting or ending with a dash.',
    };
  }
  if (fields.title.trim() === '') return { problem: 'The exercise needs a title.' };
  if (fields.task.trim() === '') return { problem: 'The exercise needs a task.' };
  if (fields.solution.trim() === '') return { problem: 'The exercise needs a reference solution.' };
  const datasets = fields.datasets
    .map((d) => ({ name: d.name.trim(), sql: d.sql }))
    .filter((d) => d.name !== '' || d.sql.trim() !== '');
  const badDataset = datasets.find(
    (d) => !/^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$/.test(d.name) || d.sql.trim() === '',
  );
  if (badDataset) {
    return { problem: `Dataset "${badDataset.name}": a name of lower-case letters, digits, - and _, and its SQL.` };
  }
  const score = fields.minKillScore.trim() === '' ? undefined : Number(fields.minKillScore);
  if (score !== undefined && !(score >= 0 && score <= 1)) {
    return { problem: 'The minimum kill score is a number from 0 to 1.' };
  }
  const tables = fields.tables.split(/[\s,]+/).filter((t) => t !== '');
  const badTable = tables.find((t) => !/^[a-z_][a-z0-9_]{0,62}(?:\.[a-z_][a-z0-9_]{0,62})?$/.test(t));
  if (badTable) return { problem: `Table "${badTable}": a lower-case name, optionally schema-qualified.` };
  const compare: NonNullable<CreateExerciseRequest['compare']> = {};
  if (fields.ordered !== 'default') compare.ordered = fields.ordered === 'yes';
  if (fields.columnNames) compare.columnNames = true;
  if (tables.length > 0) compare.tables = tables;
  if (fields.check.trim() !== '') compare.check = fields.check;
  if (fields.schema) compare.schema = true;
  const body: CreateExerciseRequest = {
    slug,
    title: fields.title.trim(),
    task: fields.task,
    setup: { sql: fields.setupSql },
    solution: fields.solution,
  };
  if (fields.kind !== 'auto') body.kind = fields.kind;
  if (datasets.length > 0) body.datasets = datasets;
  if (Object.keys(compare).length > 0) body.compare = compare;
  if (score !== undefined) body.minKillScore = score;
  if (fields.equivalentMutants.length > 0) body.equivalentMutants = fields.equivalentMutants;
  return { body };
}
