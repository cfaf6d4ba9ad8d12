SELECT title, published_year
FROM books
WHERE published_year >= 2020
ORDER BY published_year DESC, title;
