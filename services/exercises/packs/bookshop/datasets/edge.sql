-- Hidden: the start state with ties, NULLs and boundaries added where wrong answers differ.
-- Two books share the highest price; one costs exactly 10.00; one came out exactly in 2020.
UPDATE books SET price = 99.00 WHERE id IN (7, 8);
UPDATE books SET price = 10.00 WHERE id = 9;
UPDATE books SET published_year = 2020 WHERE id = 10;
-- More books without a genre; an author without a country, first by name, who wrote nothing.
UPDATE books SET genre = NULL WHERE id IN (3, 4);
INSERT INTO authors VALUES (31, 'Aaron Abbott', NULL);
-- Customers without a city; a second 'Mia Lund'; two customers tied on what they spent.
UPDATE customers SET city = NULL WHERE id IN (1, 2);
INSERT INTO customers VALUES (61, 'Mia Lund', 'Oslo', '2024-02-29'), (62, 'Abel Ames', 'Lagos', '2024-03-01');
INSERT INTO orders VALUES (201, 61, '2024-12-31', 'paid'), (202, 62, '2024-12-31', 'paid'), (203, 61, '2024-12-31', 'cancelled');
INSERT INTO order_items VALUES (201, 7, 9, 99.00), (202, 8, 9, 99.00), (203, 9, 1, 10.00);
-- A customer whose only order is empty: they spent nothing, not an unknown amount.
INSERT INTO customers VALUES (63, 'Nils Holm', NULL, '2024-06-01');
INSERT INTO orders VALUES (204, 63, '2024-06-01', 'paid');
