SELECT title, price
FROM books
WHERE price < 10.00
ORDER BY price, title;
