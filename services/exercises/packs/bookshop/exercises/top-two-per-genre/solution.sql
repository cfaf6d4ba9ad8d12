SELECT genre, title, price, rank
FROM (
  SELECT genre, title, price, rank() OVER (PARTITION BY genre ORDER BY price DESC) AS rank
  FROM books
  WHERE genre IS NOT NULL
) AS ranked
WHERE rank <= 2
ORDER BY genre, rank, title;
