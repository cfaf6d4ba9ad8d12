-- Fails when a book is dated before its author was born.
DO $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM books b JOIN authors a ON a.id = b.author_id WHERE b.published < a.born
  ) THEN
    RAISE EXCEPTION 'a book is published before its author was born';
  END IF;
END
$$;
