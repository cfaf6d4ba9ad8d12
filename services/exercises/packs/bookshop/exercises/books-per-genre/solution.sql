SELECT genre, count(*) AS books
FROM books
GROUP BY genre
ORDER BY genre NULLS LAST;
