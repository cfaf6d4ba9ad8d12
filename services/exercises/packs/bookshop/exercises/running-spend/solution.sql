SELECT o.id, o.ordered_on, sum(i.quantity * i.unit_price) AS total,
       sum(sum(i.quantity * i.unit_price)) OVER (ORDER BY o.ordered_on, o.id) AS running_total
FROM orders AS o
JOIN order_items AS i ON i.order_id = o.id
WHERE o.customer_id = 1 AND o.status <> 'cancelled'
GROUP BY o.id, o.ordered_on
ORDER BY o.ordered_on, o.id;
