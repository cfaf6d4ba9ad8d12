INSERT INTO books (id, author_id, title, published) VALUES
  (1, 1, 'The Left Hand of Darkness', 1969),
  (2, 1, 'The Dispossessed', 1974),
  (3, 2, 'Solaris', 1961),
  (4, 2, 'The Cyberiad', 1965),
  (5, 3, 'Kindred', 1979),
  (6, 3, 'Parable of the Sower', 1993);
