SELECT name
FROM authors
WHERE country IS NULL
ORDER BY name;
