import { type FormEvent, useEffect, useState } from 'react';
import { ApiError } from '../../api/errors.js';
import { linkProps } from '../../app/route.js';
import { type DraftFields, draftRequestOf, EMPTY_DRAFT, fieldsOf } from './authoring-model.js';
import { type ExercisesApi, isAuthored } from './exercises-api.js';

/** A refusal in words: the service's sentence, the SQL place when it has one, each validation error. */
function problemOf(error: unknown): string {
  if (!(error instanceof ApiError)) return 'The request failed.';
  const where = error.sql ? ` (line ${error.sql.line}, column ${error.sql.column})` : '';
  const list = Array.isArray(error.body.errors)
    ? (error.body.errors as { message?: string; instancePath?: string }[])
        .map((e) => `${e.instancePath ?? ''} ${e.message ?? ''}`.trim())
        .join('; ')
    : '';
  return `${error.message}${where}${list ? `: ${list}` : ''} (${error.code})`;
}

/**
 * A new exercise as a draft, or an exercise its author edits (`editId`;
 * instructors and admins): slug, title, task in Markdown, the start state's
 * SQL, the reference solution, hidden datasets and how answers compare (a
 * result set, or for a write the tables, a check query and the schema).
 * Saved, it opens where Publish measures it.
 */
export function AuthoringForm({
  exercises,
  navigate,
  editId,
}: {
  exercises: ExercisesApi;
  navigate(path: string): void;
  editId?: string | undefined;
}) {
  const [fields, setFields] = useState<DraftFields>(EMPTY_DRAFT);
  const [problem, setProblem] = useState('');
  const [saving, setSaving] = useState(false);
  const [loading, setLoading] = useState(editId !== undefined);

  useEffect(() => {
    if (!editId) return;
    const controller = new AbortController();
    exercises.get(editId, controller.signal).then(
      (view) => {
        if (isAuthored(view)) setFields(fieldsOf(view));
        else setProblem('Only its author or an admin may change this exercise.');
        setLoading(false);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setProblem(problemOf(error));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [exercises, editId]);
  const set = <K extends keyof DraftFields>(key: K, value: DraftFields[K]) =>
    setFields((f) => ({ ...f, [key]: value }));
  const setDataset = (index: number, part: 'name' | 'sql', value: string) =>
    set(
      'datasets',
      fields.datasets.map((d, i) => (i === index ? { ...d, [part]: value } : d)),
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const request = draftRequestOf(fields);
    if ('problem' in request) return setProblem(request.problem);
    setSaving(true);
    setProblem('');
    try {
      const saved = editId ? await exercises.update(editId, request.body) : await exercises.create(request.body);
      navigate(`/exercises/${saved.id}`);
    } catch (error) {
      setProblem(problemOf(error));
      setSaving(false);
    }
  };

  return (
    <form
      className="authoring-form"
      aria-label="New exercise"
      data-testid="authoring-form"
      onSubmit={(e) => void submit(e)}
    >
      <header className="row">
        <h2>New exercise</h2>
        <span className="spacer" />
        <a {...linkProps('/exercises', navigate)}>← All exercises</a>
      </header>
      <div className="authoring-grid">
        <label>
          Slug
          <input value={fields.slug} onChange={(e) => set('slug', e.target.value)} required placeholder="top-earner" />
        </label>
        <label>
          Title
          <input value={fields.title} onChange={(e) => set('title', e.target.value)} required maxLength={200} />
        </label>
      </div>
      <label>
        Task (Markdown)
        <textarea value={fields.task} onChange={(e) => set('task', e.target.value)} rows={5} required />
      </label>
      <label>
        Start state (SQL learners see)
        <textarea className="sql" value={fields.setupSql} onChange={(e) => set('setupSql', e.target.value)} rows={6} />
      </label>
      <label>
        Reference solution (one SELECT, or the statements of a write)
        <textarea
          className="sql"
          value={fields.solution}
          onChange={(e) => set('solution', e.target.value)}
          rows={3}
          required
        />
      </label>
      <fieldset>
        <legend>Hidden datasets (SQL run after the start state)</legend>
        {fields.datasets.map((dataset, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a dataset row is its position until removed
          <div className="dataset-row" key={i} data-testid="dataset-row">
            <label>
              Name
              <input
                value={dataset.name}
                onChange={(e) => setDataset(i, 'name', e.target.value)}
                aria-label={`Dataset ${i + 1} name`}
              />
            </label>
            <label>
              SQL
              <textarea
                className="sql"
                value={dataset.sql}
                onChange={(e) => setDataset(i, 'sql', e.target.value)}
                rows={3}
                aria-label={`Dataset ${i + 1} SQL`}
              />
            </label>
            <button
              type="button"
              onClick={() =>
                set(
                  'datasets',
                  fields.datasets.filter((_, j) => j !== i),
                )
              }
              aria-label={`Remove dataset ${i + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => set('datasets', [...fields.datasets, { name: '', sql: '' }])}
          disabled={fields.datasets.length >= 8}
        >
          Add dataset
        </button>
      </fieldset>
      <div className="authoring-grid">
        <label>
          Kind
          <select value={fields.kind} onChange={(e) => set('kind', e.target.value as DraftFields['kind'])}>
            <option value="auto">from the comparison (write when it names tables, a check or the schema)</option>
            <option value="query">query: the result set is compared</option>
            <option value="write">write or DDL: the state the answer leaves is compared</option>
          </select>
        </label>
        <label>
          Tables compared row by row (write)
          <input value={fields.tables} onChange={(e) => set('tables', e.target.value)} placeholder="orders, stock" />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={fields.schema} onChange={(e) => set('schema', e.target.checked)} />
          Compare the schema too (columns, constraints, indexes)
        </label>
      </div>
      <label>
        Check query run after a write (optional)
        <textarea className="sql" value={fields.check} onChange={(e) => set('check', e.target.value)} rows={2} />
      </label>
      <div className="authoring-grid">
        <label>
          Row order counts
          <select value={fields.ordered} onChange={(e) => set('ordered', e.target.value as DraftFields['ordered'])}>
            <option value="default">when the solution has ORDER BY</option>
            <option value="yes">always</option>
            <option value="no">never</option>
          </select>
        </label>
        <label>
          Minimum kill score (0–1)
          <input
            value={fields.minKillScore}
            onChange={(e) => set('minKillScore', e.target.value)}
            inputMode="decimal"
            placeholder="0"
          />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={fields.columnNames} onChange={(e) => set('columnNames', e.target.checked)} />
          Column names must match
        </label>
      </div>
      {problem && (
        <p role="alert" className="run-error" data-testid="authoring-problem">
          {problem}
        </p>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={saving || loading} data-testid="create-draft">
          {saving ? 'Saving…' : editId ? 'Save changes' : 'Create draft'}
        </button>
      </div>
    </form>
  );
}
