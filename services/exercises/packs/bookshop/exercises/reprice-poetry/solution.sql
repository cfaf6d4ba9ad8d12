UPDATE books SET price = round(price * 1.10, 2) WHERE genre = 'poetry';
