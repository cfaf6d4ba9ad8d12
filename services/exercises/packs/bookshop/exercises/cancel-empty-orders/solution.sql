UPDATE orders AS o SET status = 'cancelled'
WHERE o.status <> 'cancelled'
  AND NOT EXISTS (SELECT 1 FROM order_items AS i WHERE i.order_id = o.id);
