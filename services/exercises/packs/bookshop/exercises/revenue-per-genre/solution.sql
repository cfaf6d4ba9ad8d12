SELECT coalesce(b.genre, 'unclassified') AS genre, sum(i.quantity * i.unit_price) AS revenue
FROM order_items AS i
JOIN orders AS o ON o.id = i.order_id
JOIN books AS b ON b.id = i.book_id
WHERE o.status <> 'cancelled'
GROUP BY coalesce(b.genre, 'unclassified');
