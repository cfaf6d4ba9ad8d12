SELECT o.id, sum(i.quantity * i.unit_price) AS total
FROM orders AS o
JOIN order_items AS i ON i.order_id = o.id
GROUP BY o.id
HAVING sum(i.quantity * i.unit_price) > 100.00
ORDER BY total DESC, o.id;
