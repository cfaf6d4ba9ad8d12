-- The schema: authors and the books they wrote.
CREATE TABLE authors (
  id integer PRIMARY KEY,
  name text NOT NULL UNIQUE,
  born integer
);

CREATE TABLE books (
  id integer PRIMARY KEY,
  author_id integer NOT NULL REFERENCES authors (id),
  title text NOT NULL,
  published integer NOT NULL CHECK (published > 0)
);

CREATE INDEX books_author ON books (author_id);
