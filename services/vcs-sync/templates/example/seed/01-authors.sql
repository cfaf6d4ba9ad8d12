INSERT INTO authors (id, name, born) VALUES
  (1, 'Ursula K. Le Guin', 1929),
  (2, 'Stanisław Lem', 1921),
  (3, 'Octavia E. Butler', 1947);
