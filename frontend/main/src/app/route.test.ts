import { describe, expect, it } from 'vitest';
import { pathOf, routeOf } from './route.js';

const ID = '0b6f5c1e-8f3a-4c2d-9e7b-1a2b3c4d5e6f';

describe('the page of a path', () => {
  it('reads every page and gives back its path', () => {
    for (const path of ['/', '/exercises', '/exercises/new', `/exercises/${ID}`, `/exercises/${ID}/edit`]) {
      expect(pathOf(routeOf(path))).toBe(path);
    }
    expect(routeOf(`/exercises/${ID}/`)).toEqual({ page: 'exercise', id: ID });
  });

  it('shows the editor for other paths (a share link reads its own) and the catalog for unknown exercise paths', () => {
    expect(routeOf('/s/abc')).toEqual({ page: 'editor' });
    expect(routeOf('/exercises/not-an-id')).toEqual({ page: 'catalog' });
    expect(routeOf(`/exercises/${ID}/other`)).toEqual({ page: 'catalog' });
  });
});
