-- The nearby search (internal/neighbor/nearbycache.go) holds each tenant's
-- located customers in memory. customer_versions.version is the tenant's
-- change counter: every change to what the search answers with (a new
-- customer; its external id, name, address, location or same-day consent)
-- raises it and stamps the row with the new value (customers.nearby_version).
-- The copy in memory compares the counter with the one it was read at, in
-- the statement it makes anyway, and reads only the rows stamped after it,
-- so it never answers from a copy older than an acknowledged write. SQLite
-- has one writer at a time, so the counter is raised in the statement's own
-- trigger.
CREATE TABLE customer_versions (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    version   INTEGER NOT NULL
);

ALTER TABLE customers ADD COLUMN nearby_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX customers_nearby_version ON customers (tenant_id, nearby_version);

CREATE TRIGGER customers_nearby_insert AFTER INSERT ON customers
BEGIN
    INSERT INTO customer_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
    UPDATE customers SET nearby_version = (SELECT version FROM customer_versions WHERE tenant_id = NEW.tenant_id)
    WHERE id = NEW.id;
END;
CREATE TRIGGER customers_nearby_update
    AFTER UPDATE OF external_id, name, address, lat, lon, consent_same_day ON customers
    WHEN OLD.external_id IS NOT NEW.external_id OR OLD.name IS NOT NEW.name
      OR OLD.address IS NOT NEW.address OR OLD.lat IS NOT NEW.lat
      OR OLD.lon IS NOT NEW.lon OR OLD.consent_same_day IS NOT NEW.consent_same_day
BEGIN
    INSERT INTO customer_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
    ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
    UPDATE customers SET nearby_version = (SELECT version FROM customer_versions WHERE tenant_id = NEW.tenant_id)
    WHERE id = NEW.id;
END;
