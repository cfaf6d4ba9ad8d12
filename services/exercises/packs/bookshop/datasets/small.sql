-- Hidden: a small bookshop where every boundary of the tasks is hit exactly: a price of 10.00,
-- books of 2020, orders worth exactly 100.00 and 100.50, two authors and two customers of the
-- same name, reprints (a title and price twice), an author of the lowest id who wrote nothing,
-- a customer of id 0, an empty order, two orders of one customer on one day, a genre literally
-- called 'unclassified', equal line totals within an order and equal spending.
TRUNCATE order_items, orders, customers, books, authors;

INSERT INTO authors VALUES
  (1, 'Bea Bee', 'SE'),
  (2, 'Zoe Zed', 'PT'),
  (3, 'Al Ant', NULL),
  (4, 'Al Ant', NULL),
  (5, 'Bea Bee', NULL);

INSERT INTO books VALUES
  (1, 'Alpha', 2, 'poetry', 10.00, 2020),
  (2, 'Beta', 2, 'poetry', 9.99, 2019),
  (3, 'Beta', 2, 'poetry', 9.99, 2019),
  (4, 'Gamma', 2, NULL, 25.00, 2021),
  (5, 'Delta', 2, 'history', 25.00, 2020),
  (6, 'Eps', 2, 'unclassified', 5.00, 1999),
  (7, 'Kappa', 3, 'travel', 10.00, 2022),
  (8, 'Lambda', 3, 'travel', 10.00, 2022),
  (9, 'Mu', 3, 'travel', 10.01, 2010),
  (10, 'Nu', 3, 'history', 12.00, 2011),
  (11, 'Xi', 3, 'history', 12.00, 2012),
  (12, 'Kappa', 4, 'travel', 10.00, 2022),
  (13, 'Lambda', 4, 'travel', 10.00, 2022),
  (14, 'Mu', 4, 'travel', 10.01, 2010),
  (15, 'Nu', 4, 'history', 12.00, 2011),
  (16, 'Xi', 4, 'history', 12.00, 2012);

INSERT INTO customers VALUES
  (0, 'Ola', 'Oslo', '2024-01-01'),
  (1, 'Kai', 'Oslo', '2024-01-01'),
  (2, 'Lea', NULL, '2024-01-02'),
  (3, 'Max', 'Oslo', '2024-01-03'),
  (4, 'Ned', 'Lyon', '2024-01-04'),
  (5, 'Max', 'Turin', '2024-01-05');

INSERT INTO orders VALUES
  (1, 1, '2024-03-01', 'paid'),
  (2, 1, '2024-03-01', 'shipped'),
  (3, 1, '2024-03-05', 'cancelled'),
  (4, 1, '2024-03-09', 'paid'),
  (5, 0, '2024-02-01', 'paid'),
  (6, 2, '2024-04-01', 'cancelled'),
  (7, 2, '2024-05-02', 'paid'),
  (8, 3, '2024-04-15', 'paid'),
  (9, 5, '2024-05-01', 'shipped');

-- Order 4 is empty; order 1 has two lines of 50.00; orders 8 and 9 are worth 100.50 each.
INSERT INTO order_items VALUES
  (1, 4, 2, 25.00), (1, 5, 2, 25.00), (1, 1, 1, 10.00),
  (2, 2, 1, 9.99),
  (3, 7, 1, 10.00),
  (5, 8, 1, 10.00),
  (6, 5, 2, 25.00),
  (7, 4, 4, 25.00),
  (8, 4, 4, 25.00), (8, 6, 1, 0.50),
  (9, 9, 10, 10.05);
