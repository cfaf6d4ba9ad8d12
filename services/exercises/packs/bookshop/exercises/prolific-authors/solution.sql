SELECT a.name, count(*) AS books, round(avg(b.price), 2) AS avg_price
FROM authors AS a
JOIN books AS b ON b.author_id = a.id
GROUP BY a.id, a.name
HAVING count(*) >= 5
ORDER BY books DESC, a.name;
