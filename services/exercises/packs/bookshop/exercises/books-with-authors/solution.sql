SELECT b.title, a.name
FROM books AS b
JOIN authors AS a ON a.id = b.author_id
WHERE b.published_year >= 2020
ORDER BY b.title;
