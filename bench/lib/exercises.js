// The exercise states of bench/load (and bench/planner, which plans their tails as a class's arrival does):
// a few tables, a few thousand rows each, all distinct. Each has REPL heads a learner types (SELECT, INSERT,
// UPDATE) and a mistake (intended error, class 42: undefined table/column, syntax).

/** The exercises, their REPL heads drawing numbers from `int(lo, hi)` (the caller's seeded generator). */
export function loadExercises(int) {
  return [
    {
      name: 'shop',
      tail: `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['Oslo','Lima','Pune','Kyiv','Perth'])[1 + g % 5] FROM generate_series(1, 2000) g;
CREATE TABLE products (id int PRIMARY KEY, title text NOT NULL, price numeric(10,2) NOT NULL);
INSERT INTO products SELECT g, 'product ' || g, round((g % 97) * 1.25 + 3, 2) FROM generate_series(1, 300) g;
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, product_id int NOT NULL REFERENCES products, qty int NOT NULL, ordered_at date NOT NULL);
INSERT INTO orders (customer_id, product_id, qty, ordered_at) SELECT 1 + g % 2000, 1 + (g * 7) % 300, 1 + g % 4, date '2024-01-01' + g % 365 FROM generate_series(1, 5000) g;
CREATE INDEX orders_customer ON orders (customer_id);
`,
      first:
        'SELECT c.city, count(*) AS orders FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.city ORDER BY 2 DESC',
      repl: [
        () => `SELECT * FROM customers WHERE id = ${int(1, 2000)}`,
        () =>
          `SELECT p.title, sum(o.qty) AS sold FROM orders o JOIN products p ON p.id = o.product_id GROUP BY p.title ORDER BY sold DESC LIMIT 10`,
        () =>
          `INSERT INTO orders (customer_id, product_id, qty, ordered_at) VALUES (${int(1, 2000)}, ${int(1, 300)}, ${int(1, 5)}, current_date)`,
        () => `UPDATE products SET price = price * 1.1 WHERE id = ${int(1, 300)}`,
        () => `SELECT count(*) FROM orders WHERE ordered_at >= date '2024-06-01'`,
      ],
      mistake: 'SELECT * FROM order_lines',
    },
    {
      name: 'library',
      tail: `CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL, born int);
INSERT INTO authors SELECT g, 'author ' || g, 1900 + g % 100 FROM generate_series(1, 500) g;
CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, title text NOT NULL, pages int NOT NULL);
INSERT INTO books SELECT g, 1 + g % 500, 'book ' || md5(g::text), 80 + g % 700 FROM generate_series(1, 3000) g;
CREATE TABLE loans (book_id int NOT NULL REFERENCES books, member text NOT NULL, out_on date NOT NULL, back_on date);
INSERT INTO loans SELECT 1 + g % 3000, 'member ' || g % 400, date '2023-01-01' + g % 600, CASE WHEN g % 3 = 0 THEN NULL ELSE date '2023-01-01' + g % 600 + 14 END FROM generate_series(1, 4000) g;
`,
      first:
        'SELECT a.name, count(*) AS books FROM books b JOIN authors a ON a.id = b.author_id GROUP BY a.name ORDER BY books DESC LIMIT 20',
      repl: [
        () => `SELECT title, pages FROM books WHERE author_id = ${int(1, 500)} ORDER BY pages`,
        () => 'SELECT member, count(*) FROM loans WHERE back_on IS NULL GROUP BY member ORDER BY 2 DESC LIMIT 10',
        () => `INSERT INTO loans VALUES (${int(1, 3000)}, 'member ${int(1, 400)}', current_date, NULL)`,
        () => `UPDATE loans SET back_on = current_date WHERE book_id = ${int(1, 3000)} AND back_on IS NULL`,
        () => 'SELECT avg(pages)::int FROM books',
      ],
      mistake: 'SELECT titel FROM books',
    },
    {
      name: 'school',
      tail: `CREATE TABLE students (id int PRIMARY KEY, name text NOT NULL, year int NOT NULL);
INSERT INTO students SELECT g, 'student ' || g, 1 + g % 4 FROM generate_series(1, 1500) g;
CREATE TABLE courses (code text PRIMARY KEY, title text NOT NULL, credits int NOT NULL);
INSERT INTO courses SELECT 'C' || g, 'course ' || g, 1 + g % 6 FROM generate_series(1, 60) g;
CREATE TABLE enrollments (student_id int NOT NULL REFERENCES students, course text NOT NULL REFERENCES courses, grade int, PRIMARY KEY (student_id, course));
INSERT INTO enrollments SELECT s, 'C' || (1 + (s * 7 + k) % 60), (s * k) % 6 FROM generate_series(1, 1500) s, generate_series(1, 4) k;
`,
      first:
        'SELECT c.title, avg(e.grade)::numeric(4,2) AS avg_grade FROM enrollments e JOIN courses c ON c.code = e.course GROUP BY c.title ORDER BY 2 DESC LIMIT 15',
      repl: [
        () => `SELECT * FROM enrollments WHERE student_id = ${int(1, 1500)}`,
        () => 'SELECT year, count(*) FROM students GROUP BY year ORDER BY year',
        () => `INSERT INTO students VALUES (${int(100_000, 999_999_999)}, 'new student', 1) ON CONFLICT DO NOTHING`,
        () => `UPDATE enrollments SET grade = ${int(0, 5)} WHERE student_id = ${int(1, 1500)}`,
        () => 'SELECT course, count(*) FROM enrollments GROUP BY course HAVING count(*) > 90',
      ],
      mistake: 'SELEC * FROM students',
    },
    {
      name: 'hr',
      tail: `CREATE TABLE departments (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO departments SELECT g, 'department ' || g FROM generate_series(1, 25) g;
CREATE TABLE employees (id int PRIMARY KEY, department_id int REFERENCES departments, manager_id int, name text NOT NULL, hired date NOT NULL);
INSERT INTO employees SELECT g, 1 + g % 25, CASE WHEN g > 25 THEN 1 + g % 25 END, 'employee ' || g, date '2015-01-01' + g FROM generate_series(1, 2500) g;
CREATE TABLE salaries (employee_id int NOT NULL REFERENCES employees, amount int NOT NULL, since date NOT NULL);
INSERT INTO salaries SELECT 1 + g % 2500, 30000 + (g * 37) % 60000, date '2020-01-01' + g % 1500 FROM generate_series(1, 6000) g;
`,
      first:
        'SELECT d.name, max(s.amount) AS top FROM salaries s JOIN employees e ON e.id = s.employee_id JOIN departments d ON d.id = e.department_id GROUP BY d.name ORDER BY top DESC',
      repl: [
        () => `SELECT * FROM employees WHERE manager_id = ${int(1, 25)} ORDER BY hired LIMIT 20`,
        () =>
          'WITH RECURSIVE chain AS (SELECT id, manager_id, 1 AS depth FROM employees WHERE id = 2000 UNION ALL SELECT e.id, e.manager_id, depth + 1 FROM employees e JOIN chain c ON e.id = c.manager_id) SELECT * FROM chain',
        () => `INSERT INTO salaries VALUES (${int(1, 2500)}, ${int(30_000, 90_000)}, current_date)`,
        () => `UPDATE employees SET department_id = ${int(1, 25)} WHERE id = ${int(26, 2500)}`,
        () => 'SELECT department_id, count(*) FROM employees GROUP BY 1 ORDER BY 2 DESC LIMIT 5',
      ],
      mistake: 'SELECT * FROM employee WHERE id = 1',
    },
    {
      name: 'flights',
      tail: `CREATE TABLE airports (code text PRIMARY KEY, city text NOT NULL);
INSERT INTO airports SELECT 'A' || lpad(g::text, 2, '0'), 'city ' || g FROM generate_series(1, 40) g;
CREATE TABLE flights (id int PRIMARY KEY, origin text NOT NULL REFERENCES airports, destination text NOT NULL REFERENCES airports, departs timestamptz NOT NULL, seats int NOT NULL);
INSERT INTO flights SELECT g, 'A' || lpad((1 + g % 40)::text, 2, '0'), 'A' || lpad((1 + (g * 3 + 1) % 40)::text, 2, '0'), timestamptz '2025-01-01 00:00+00' + g * interval '37 minutes', 100 + g % 150 FROM generate_series(1, 3000) g;
CREATE TABLE bookings (flight_id int NOT NULL REFERENCES flights, passenger text NOT NULL, price numeric(8,2) NOT NULL);
INSERT INTO bookings SELECT 1 + g % 3000, 'passenger ' || g % 1800, 50 + (g % 400) FROM generate_series(1, 7000) g;
`,
      first:
        'SELECT f.origin, count(*) AS bookings, sum(b.price) AS revenue FROM bookings b JOIN flights f ON f.id = b.flight_id GROUP BY f.origin ORDER BY revenue DESC LIMIT 10',
      repl: [
        () =>
          `SELECT * FROM flights WHERE origin = 'A${String(int(1, 40)).padStart(2, '0')}' ORDER BY departs LIMIT 10`,
        () =>
          'SELECT f.id, f.seats - count(b.*) AS free FROM flights f LEFT JOIN bookings b ON b.flight_id = f.id GROUP BY f.id ORDER BY free LIMIT 10',
        () => `INSERT INTO bookings VALUES (${int(1, 3000)}, 'walk-in', ${int(50, 450)})`,
        () => `UPDATE flights SET seats = seats + 1 WHERE id = ${int(1, 3000)}`,
        () => 'SELECT count(DISTINCT passenger) FROM bookings',
      ],
      mistake: 'SELECT * FROM flights WHERE',
    },
  ];
}
