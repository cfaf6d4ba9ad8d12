import { afterEach, describe, expect, it } from 'vitest';
import { compareStates, type StateCompareOptions, snapshotState } from '../../../src/domain/compare/state.js';
import { createDataset, type Dataset } from '../../helpers.js';

const START = `
  CREATE TABLE employees (id int PRIMARY KEY, name text NOT NULL, dept text, salary numeric(10,2));
  CREATE TABLE audit (id serial PRIMARY KEY, note text);
  INSERT INTO employees VALUES (1, 'ann', 'eng', 100), (2, 'bob', 'eng', 90), (3, 'cy', 'ops', 80);
  INSERT INTO audit (note) VALUES ('created');
`;

const opened: Dataset[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

/** Runs the reference and the answer each on its own fresh copy of the start state, and compares what they leave. */
async function grade(reference: string, answer: string, options: StateCompareOptions) {
  const expected = await createDataset('ex_state', START);
  const actual = await createDataset('ex_state', START);
  opened.push(expected, actual);
  await expected.client.query(reference);
  await actual.client.query(answer);
  return compareStates(await snapshotState(expected.client, options), await snapshotState(actual.client, options));
}

describe('state comparison of write and DDL exercises on PostgreSQL', () => {
  const raise = "UPDATE employees SET salary = salary * 1.10 WHERE dept = 'eng'";

  it('passes an answer written differently that leaves the same rows', async () => {
    const verdict = await grade(raise, 'UPDATE employees SET salary = round(salary * 1.1, 2) WHERE id IN (1, 2)', {
      tables: ['employees'],
    });
    expect(verdict).toEqual({ passed: true });
  });

  it('names the rows an answer left wrong in a named table', async () => {
    const verdict = await grade(raise, 'UPDATE employees SET salary = salary * 1.10', { tables: ['employees'] });
    expect(verdict).toMatchObject({
      passed: false,
      reason: 'tables',
      tables: [
        {
          table: 'public.employees',
          missingCount: 1,
          extraCount: 1,
          missingRows: ['(3,cy,ops,80.00)'],
          extraRows: ['(3,cy,ops,88.00)'],
        },
      ],
      otherChanges: [],
    });
    expect(verdict.message).toBe(
      'Table public.employees: 1 expected row is missing and 1 row should not be there (for example (3,cy,ops,80.00) is expected).',
    );
  });

  it('fails an answer that also changed a table the exercise does not name', async () => {
    const verdict = await grade(raise, `${raise}; DELETE FROM audit`, { tables: ['employees'] });
    expect(verdict).toMatchObject({ passed: false, reason: 'tables', tables: [], otherChanges: ['public.audit'] });
    expect(verdict.message).toBe('Your SQL also changed public.audit, which the task leaves as it was.');
  });

  describe('with the schema from the catalog', () => {
    const create = `CREATE TABLE projects (id int PRIMARY KEY, name text NOT NULL, lead int REFERENCES employees (id) DEFAULT 1);
                    CREATE INDEX projects_lead_idx ON projects (lead)`;
    const options = { tables: ['projects'], schema: true };

    it('passes the same columns, constraints and indexes under other names', async () => {
      const answer = `CREATE TABLE projects (id int, name text NOT NULL, lead int DEFAULT 1,
                        CONSTRAINT my_pk PRIMARY KEY (id), CONSTRAINT my_fk FOREIGN KEY (lead) REFERENCES employees (id));
                      CREATE INDEX ON projects (lead)`;
      expect(await grade(create, answer, options)).toEqual({ passed: true });
    });

    it('lists what the answer lacks and what it has too many: a NOT NULL, an index, a type', async () => {
      const answer = `CREATE TABLE projects (id bigint PRIMARY KEY, name text, lead int REFERENCES employees (id) DEFAULT 1)`;
      const verdict = await grade(create, answer, options);
      expect(verdict).toMatchObject({ passed: false, reason: 'schema' });
      expect(verdict.schema?.missing).toEqual([
        'column public.projects.id integer NOT NULL',
        'column public.projects.name text NOT NULL',
        'index on public.projects: CREATE INDEX ON public.projects USING btree (lead)',
      ]);
      expect(verdict.schema?.extra).toEqual([
        'column public.projects.id bigint NOT NULL',
        'column public.projects.name text',
      ]);
      expect(verdict.message).toContain(
        'The schema your SQL leaves differs: it lacks column public.projects.id integer NOT NULL;',
      );
    });

    it('sees a dropped table among the tables the exercise does not name', async () => {
      const verdict = await grade(create, `${create}; DROP TABLE audit`, { tables: ['projects'] });
      expect(verdict).toMatchObject({ passed: false, otherChanges: ['public.audit'] });
    });
  });

  it('refuses to read a named table past the row limit, by code', async () => {
    const data = await createDataset('ex_state', START);
    opened.push(data);
    await expect(snapshotState(data.client, { tables: ['employees'], rowLimit: 2 })).rejects.toMatchObject({
      code: 'EXERCISES_STATE_TOO_LARGE',
      details: { table: 'public.employees', limit: 2 },
    });
  });
});
