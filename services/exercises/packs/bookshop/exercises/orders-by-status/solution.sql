SELECT o.status, count(*) AS orders, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM order_items AS i WHERE i.order_id = o.id)) AS empty
FROM orders AS o
GROUP BY o.status;
