SET LOCAL lock_timeout = '2s';
-- SHARE UPDATE EXCLUSIVE: reads and writes go on while the rows are checked.
ALTER TABLE orders VALIDATE CONSTRAINT orders_region_known;
