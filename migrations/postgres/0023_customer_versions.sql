-- The nearby search (internal/neighbor/nearbycache.go) holds each tenant's
-- located customers in memory. customer_versions.version is the tenant's
-- change counter: every transaction that adds a customer or changes what the
-- search answers with (external id, name, address, location, same-day
-- consent) raises it, and the rows it wrote carry its transaction id
-- (customers.nearby_xid). A replica compares the counter with the one its
-- copy was read at, in the statement it makes anyway; when it moved, it
-- reads the rows whose transaction its copy's snapshot did not see, so it
-- never answers from a copy older than an acknowledged write.
--
-- The counter is raised at commit (a deferred trigger), so the row lock it
-- takes is the last lock its transaction takes and is held only while the
-- transaction commits: it cannot close a cycle with the money paths' locks.
CREATE TABLE customer_versions (
    tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    version   BIGINT NOT NULL
);

ALTER TABLE customers ADD COLUMN nearby_xid XID8;
CREATE INDEX customers_nearby_xid ON customers (tenant_id, nearby_xid);

CREATE FUNCTION customers_nearby_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.nearby_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

-- Runs once per changed row at commit and raises the counter once per
-- transaction and tenant (remembered in a transaction-local setting), so a
-- large import does not pile up versions of the counter row.
CREATE FUNCTION customers_nearby_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('routeloop.nearby_counted', true) IS DISTINCT FROM NEW.tenant_id::text THEN
        INSERT INTO customer_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = customer_versions.version + 1;
        PERFORM set_config('routeloop.nearby_counted', NEW.tenant_id::text, true);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER customers_nearby_xid_insert BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_nearby_xid();
CREATE TRIGGER customers_nearby_xid_update
    BEFORE UPDATE OF external_id, name, address, lat, lon, consent_same_day ON customers
    FOR EACH ROW
    WHEN (OLD.external_id IS DISTINCT FROM NEW.external_id OR OLD.name IS DISTINCT FROM NEW.name
       OR OLD.address IS DISTINCT FROM NEW.address OR OLD.lat IS DISTINCT FROM NEW.lat
       OR OLD.lon IS DISTINCT FROM NEW.lon OR OLD.consent_same_day IS DISTINCT FROM NEW.consent_same_day)
    EXECUTE FUNCTION customers_nearby_xid();

CREATE CONSTRAINT TRIGGER customers_nearby_insert AFTER INSERT ON customers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION customers_nearby_count();
CREATE CONSTRAINT TRIGGER customers_nearby_update
    AFTER UPDATE OF external_id, name, address, lat, lon, consent_same_day ON customers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.external_id IS DISTINCT FROM NEW.external_id OR OLD.name IS DISTINCT FROM NEW.name
       OR OLD.address IS DISTINCT FROM NEW.address OR OLD.lat IS DISTINCT FROM NEW.lat
       OR OLD.lon IS DISTINCT FROM NEW.lon OR OLD.consent_same_day IS DISTINCT FROM NEW.consent_same_day)
    EXECUTE FUNCTION customers_nearby_count();
