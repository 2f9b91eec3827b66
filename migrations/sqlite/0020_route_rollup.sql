-- Route savings per crew and day (internal/dispatch/rollup.go): what the
-- crew's completed visits synced with a linked neighbour saved on that
-- day's route, in road metres and driving minutes (the money is worked out
-- from them with the program's prices when read). A function of the facts
-- alone, worked out again for any day whose facts changed.
CREATE TABLE route_days (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    crew_id       BIGINT NOT NULL,
    synced_visits INTEGER NOT NULL,
    metres        DOUBLE PRECISION NOT NULL,
    minutes       DOUBLE PRECISION NOT NULL
);
CREATE INDEX route_days_day ON route_days (tenant_id, day);

-- The travel model and sync rule the rollup was worked out with: a new
-- road factor, speed or same-crew rule works every day out again.
CREATE TABLE route_rollup_state (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    settings  TEXT NOT NULL
);

-- route_dirty: the days to work out again, written by the database in the
-- same transaction as the change, whichever code made it.
CREATE TABLE route_dirty (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    day       TEXT NOT NULL
);
CREATE INDEX route_dirty_tenant ON route_dirty (tenant_id, id);

-- A visit added, removed, moved to another day, crew or place in the route,
-- given to another customer, or changing status (completed ones are the
-- route; any visit not cancelled syncs its linked neighbour's).
CREATE TRIGGER visits_route_insert AFTER INSERT ON visits
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (NEW.tenant_id, NEW.service_date);
END;
CREATE TRIGGER visits_route_update AFTER UPDATE ON visits
    WHEN OLD.service_date IS NOT NEW.service_date OR OLD.status IS NOT NEW.status OR OLD.crew_id IS NOT NEW.crew_id
        OR OLD.route_position IS NOT NEW.route_position OR OLD.customer_id IS NOT NEW.customer_id
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (OLD.tenant_id, OLD.service_date);
    INSERT INTO route_dirty (tenant_id, day) SELECT NEW.tenant_id, NEW.service_date WHERE NEW.service_date IS NOT OLD.service_date;
END;
CREATE TRIGGER visits_route_delete AFTER DELETE ON visits
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (OLD.tenant_id, OLD.service_date);
END;

-- A customer's home moved: every day they have a visit.
CREATE TRIGGER customers_route AFTER UPDATE OF lat, lon ON customers
    WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits WHERE tenant_id = NEW.tenant_id AND customer_id = NEW.id;
END;

-- A crew's depot moved: every day the crew has a visit.
CREATE TRIGGER crews_route AFTER UPDATE OF depot_lat, depot_lon ON crews
    WHEN OLD.depot_lat IS NOT NEW.depot_lat OR OLD.depot_lon IS NOT NEW.depot_lon
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits WHERE tenant_id = NEW.tenant_id AND crew_id = NEW.id;
END;

-- A link made, ended or removed: every day either neighbour has a visit.
CREATE TRIGGER neighbor_links_route_insert AFTER INSERT ON neighbor_links
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits
    WHERE tenant_id = NEW.tenant_id AND customer_id IN (NEW.customer_a_id, NEW.customer_b_id);
END;
CREATE TRIGGER neighbor_links_route_update AFTER UPDATE ON neighbor_links
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits
    WHERE tenant_id = NEW.tenant_id AND customer_id IN (OLD.customer_a_id, OLD.customer_b_id, NEW.customer_a_id, NEW.customer_b_id);
END;
CREATE TRIGGER neighbor_links_route_delete AFTER DELETE ON neighbor_links
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits
    WHERE tenant_id = OLD.tenant_id AND customer_id IN (OLD.customer_a_id, OLD.customer_b_id);
END;
