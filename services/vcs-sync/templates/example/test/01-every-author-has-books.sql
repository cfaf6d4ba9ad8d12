-- Fails (raises) when an author has no book.
DO $$
DECLARE
  lonely text;
BEGIN
  SELECT a.name INTO lonely
  FROM authors a LEFT JOIN books b ON b.author_id = a.id
  WHERE b.id IS NULL
  LIMIT 1;
  IF lonely IS NOT NULL THEN
    RAISE EXCEPTION 'author % has no books', lonely;
  END IF;
END
$$;
