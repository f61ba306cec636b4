SET LOCAL lock_timeout = '2s';
-- A constant default is stored in the catalog: no rewrite.
ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
ALTER TABLE orders ADD CONSTRAINT orders_region_known CHECK (region IN ('eu', 'us')) NOT VALID;
