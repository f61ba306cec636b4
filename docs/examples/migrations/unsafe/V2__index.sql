SET lock_timeout = '2s';
CREATE INDEX orders_a_idx ON orders (a);
