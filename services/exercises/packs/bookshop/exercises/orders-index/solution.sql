CREATE INDEX ON orders (customer_id, ordered_on);
