-- Route savings per crew and day (internal/dispatch/rollup.go): what the
-- crew's completed visits synced with a linked neighbour saved on that
-- day's route, in road metres and driving minutes (the money is worked out
-- from them with the program's prices when read). A function of the facts
-- alone, worked out again for any day whose facts changed.
CREATE TABLE route_days (
    tenant_id     UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day           DATE NOT NULL,
    crew_id       BIGINT NOT NULL,
    synced_visits INTEGER NOT NULL,
    metres        DOUBLE PRECISION NOT NULL,
    minutes       DOUBLE PRECISION NOT NULL
);
CREATE INDEX route_days_day ON route_days (tenant_id, day);

-- The travel model and sync rule the rollup was worked out with: a new
-- road factor, speed or same-crew rule works every day out again.
CREATE TABLE route_rollup_state (
    tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    settings  TEXT NOT NULL
);

-- route_dirty: the days to work out again, written by the database in the
-- same transaction as the change, whichever code made it.
CREATE TABLE route_dirty (
    id        BIGSERIAL PRIMARY KEY,
    tenant_id UUID NOT NULL,
    day       DATE NOT NULL
);
CREATE INDEX route_dirty_tenant ON route_dirty (tenant_id, id);

-- A visit added, removed, moved to another day, crew or place in the route,
-- given to another customer, or changing status (completed ones are the
-- route; any visit not cancelled syncs its linked neighbour's).
CREATE FUNCTION route_mark_visits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO route_dirty (tenant_id, day) SELECT DISTINCT tenant_id, service_date FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO route_dirty (tenant_id, day) SELECT DISTINCT tenant_id, service_date FROM old_rows;
    ELSE
        INSERT INTO route_dirty (tenant_id, day)
        SELECT DISTINCT c.tenant_id, c.day FROM (
            SELECT o.tenant_id, o.service_date AS old_day, n.service_date AS new_day FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.service_date, o.status, o.crew_id, o.route_position, o.customer_id)
                IS DISTINCT FROM (n.service_date, n.status, n.crew_id, n.route_position, n.customer_id)
        ) ch, LATERAL (VALUES (ch.tenant_id, ch.old_day), (ch.tenant_id, ch.new_day)) c (tenant_id, day);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_route_insert AFTER INSERT ON visits REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_visits();
CREATE TRIGGER visits_route_update AFTER UPDATE ON visits REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_visits();
CREATE TRIGGER visits_route_delete AFTER DELETE ON visits REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_visits();

-- A customer's home moved: every day they have a visit.
CREATE FUNCTION route_mark_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits WHERE tenant_id = NEW.tenant_id AND customer_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_route AFTER UPDATE OF lat, lon ON customers
    FOR EACH ROW WHEN (OLD.lat IS DISTINCT FROM NEW.lat OR OLD.lon IS DISTINCT FROM NEW.lon)
    EXECUTE FUNCTION route_mark_customer();

-- A crew's depot moved: every day the crew has a visit.
CREATE FUNCTION route_mark_crew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO route_dirty (tenant_id, day)
    SELECT DISTINCT tenant_id, service_date FROM visits WHERE tenant_id = NEW.tenant_id AND crew_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER crews_route AFTER UPDATE OF depot_lat, depot_lon ON crews
    FOR EACH ROW WHEN (OLD.depot_lat IS DISTINCT FROM NEW.depot_lat OR OLD.depot_lon IS DISTINCT FROM NEW.depot_lon)
    EXECUTE FUNCTION route_mark_crew();

-- A link made, ended or removed: every day either neighbour has a visit.
CREATE FUNCTION route_mark_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO route_dirty (tenant_id, day)
        SELECT DISTINCT v.tenant_id, v.service_date FROM visits v
        JOIN (SELECT tenant_id, customer_a_id AS customer_id FROM new_rows UNION SELECT tenant_id, customer_b_id FROM new_rows) c
            ON v.tenant_id = c.tenant_id AND v.customer_id = c.customer_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO route_dirty (tenant_id, day)
        SELECT DISTINCT v.tenant_id, v.service_date FROM visits v
        JOIN (SELECT tenant_id, customer_a_id AS customer_id FROM old_rows UNION SELECT tenant_id, customer_b_id FROM old_rows) c
            ON v.tenant_id = c.tenant_id AND v.customer_id = c.customer_id;
    ELSE
        INSERT INTO route_dirty (tenant_id, day)
        SELECT DISTINCT v.tenant_id, v.service_date FROM visits v
        JOIN (SELECT tenant_id, customer_a_id AS customer_id FROM old_rows UNION SELECT tenant_id, customer_b_id FROM old_rows
              UNION SELECT tenant_id, customer_a_id FROM new_rows UNION SELECT tenant_id, customer_b_id FROM new_rows) c
            ON v.tenant_id = c.tenant_id AND v.customer_id = c.customer_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER neighbor_links_route_insert AFTER INSERT ON neighbor_links REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_links();
CREATE TRIGGER neighbor_links_route_update AFTER UPDATE ON neighbor_links REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_links();
CREATE TRIGGER neighbor_links_route_delete AFTER DELETE ON neighbor_links REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_mark_links();
