SELECT customer_id, id, ordered_on
FROM (
  SELECT customer_id, id, ordered_on,
         row_number() OVER (PARTITION BY customer_id ORDER BY ordered_on, id) AS n
  FROM orders
) AS numbered
WHERE n = 1
ORDER BY customer_id;
