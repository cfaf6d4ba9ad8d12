SELECT title, genre, price
FROM (
  SELECT title, genre, price, avg(price) OVER (PARTITION BY genre) AS genre_avg
  FROM books
  WHERE genre IS NOT NULL
) AS b
WHERE price > genre_avg
ORDER BY genre, title;
