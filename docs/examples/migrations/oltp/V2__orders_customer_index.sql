-- controlplane:no-transaction
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
