-- The bookshop: authors write books, customers place orders of books.
-- Every row is generated here from its number, so the data is the same on every build:
-- 30 authors (the last three have written nothing), 120 books, 60 customers (the last six
-- never ordered), 200 orders (four of them empty) and their items.

CREATE TABLE authors (
  id int PRIMARY KEY,
  name text NOT NULL,
  country text -- NULL: unknown
);

CREATE TABLE books (
  id int PRIMARY KEY,
  title text NOT NULL,
  author_id int NOT NULL REFERENCES authors (id),
  genre text, -- NULL: not classified yet
  price numeric(6, 2) NOT NULL CHECK (price > 0),
  published_year int NOT NULL
);

CREATE TABLE customers (
  id int PRIMARY KEY,
  name text NOT NULL,
  city text, -- NULL: not given
  joined_on date NOT NULL
);

CREATE TABLE orders (
  id int PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id),
  ordered_on date NOT NULL,
  status text NOT NULL CHECK (status IN ('paid', 'shipped', 'cancelled'))
);

CREATE TABLE order_items (
  order_id int NOT NULL REFERENCES orders (id),
  book_id int NOT NULL REFERENCES books (id),
  quantity int NOT NULL CHECK (quantity > 0),
  unit_price numeric(6, 2) NOT NULL,
  PRIMARY KEY (order_id, book_id)
);

INSERT INTO authors (id, name, country)
SELECT g,
       (ARRAY['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Eun', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas'])[1 + (g - 1) % 10]
         || ' ' || (ARRAY['Alves', 'Berg', 'Costa', 'Dahl', 'Eze', 'Fontaine'])[1 + g % 6],
       CASE WHEN g % 7 = 0 THEN NULL ELSE (ARRAY['PT', 'SE', 'IT', 'NO', 'NG', 'FR', 'JP'])[1 + g % 7] END
FROM generate_series(1, 30) AS g;

INSERT INTO books (id, title, author_id, genre, price, published_year)
SELECT g,
       (ARRAY['Silent', 'Red', 'Last', 'Hidden', 'Northern', 'Paper', 'Glass', 'Winter'])[1 + (g * 3) % 8]
         || ' ' || (ARRAY['River', 'Garden', 'Letter', 'City', 'Harbour', 'Clock', 'Map'])[1 + (g * 5) % 7]
         || ' ' || g,
       1 + (g * 11) % 27,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['fiction', 'poetry', 'history', 'science', 'travel'])[1 + g % 5] END,
       5 + (g * 37) % 40 + (g % 4) * 0.25,
       1990 + (g * 13) % 35
FROM generate_series(1, 120) AS g;

INSERT INTO customers (id, name, city, joined_on)
SELECT g,
       (ARRAY['Mia', 'Noah', 'Olga', 'Pavel', 'Quinn', 'Rosa', 'Sami', 'Tess', 'Uma', 'Vik', 'Wen', 'Yara'])[1 + (g - 1) % 12]
         || ' ' || (ARRAY['Kim', 'Lund', 'Moreau', 'Novak', 'Ortiz'])[1 + g % 5],
       CASE WHEN g % 9 = 0 THEN NULL ELSE (ARRAY['Lisbon', 'Oslo', 'Lagos', 'Kyoto', 'Turin', 'Lyon'])[1 + g % 6] END,
       date '2023-01-01' + (g * 17) % 700
FROM generate_series(1, 60) AS g;

INSERT INTO orders (id, customer_id, ordered_on, status)
SELECT g,
       1 + (g * 7) % 54,
       date '2024-01-01' + (g * 3) % 366,
       CASE WHEN g % 10 = 0 THEN 'cancelled' WHEN g % 3 = 0 THEN 'paid' ELSE 'shipped' END
FROM generate_series(1, 200) AS g;

-- One to three items an order; orders 50, 100, 150 and 200 are empty.
INSERT INTO order_items (order_id, book_id, quantity, unit_price)
SELECT o, b.id, 1 + (o + k) % 3, b.price
FROM generate_series(1, 200) AS o
CROSS JOIN generate_series(1, 3) AS k
JOIN books AS b ON b.id = 1 + (o * 7 + k * 41) % 120
WHERE k <= 1 + o % 3 AND o % 50 <> 0;
