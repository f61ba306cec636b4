CREATE TABLE orders (id bigint PRIMARY KEY, a text);
