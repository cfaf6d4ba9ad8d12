import { describe, expect, it } from 'vitest';
import { schemaOf } from '../../../src/domain/runs/catalog.js';
import { CATALOG_CAPS } from '../../../src/domain/runs/catalog-sql.js';

const relation = (i: number) => ({ oid: String(i), schema: 'public', name: `t${i}`, kind: 'r', estimate: i });

describe('schemaOf', () => {
  it('puts columns, keys and indexes under their table and names the kinds', () => {
    const schema = schemaOf({
      schemas: [{ name: 'public' }],
      relations: [relation(1), { oid: '2', schema: 'public', name: 'v', kind: 'v', estimate: null }],
      columns: [
        { oid: '1', name: 'id', type: 'integer', nullable: false },
        { oid: '2', name: 'id', type: 'integer', nullable: true },
      ],
      keys: [
        {
          oid: '1',
          name: 't1_id_fkey',
          kind: 'f',
          columns: ['id'],
          ref_schema: 'public',
          ref_table: 'other',
          ref_columns: ['x'],
        },
      ],
      indexes: [
        { oid: '1', name: 't1_i', unique: false, definition: 'CREATE INDEX t1_i ON public.t1 USING btree (id)' },
      ],
    });
    expect(schema.truncated).toBe(false);
    expect(schema.tables.map((t) => [t.name, t.kind, t.rowEstimate, t.columns.length])).toEqual([
      ['t1', 'table', 1, 1],
      ['v', 'view', null, 1],
    ]);
    expect(schema.tables[0]?.keys).toEqual([
      {
        name: 't1_id_fkey',
        kind: 'foreign',
        columns: ['id'],
        references: { schema: 'public', table: 'other', columns: ['x'] },
      },
    ]);
    expect(schema.tables[0]?.indexes).toHaveLength(1);
  });

  it('answers at most the cap of relations and says it left some out', () => {
    const relations = Array.from({ length: CATALOG_CAPS.relations + 1 }, (_, i) => relation(i));
    const schema = schemaOf({ schemas: [], relations, columns: [], keys: [], indexes: [] });
    expect(schema.tables).toHaveLength(CATALOG_CAPS.relations);
    expect(schema.truncated).toBe(true);
  });
});
