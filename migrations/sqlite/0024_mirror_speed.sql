-- The mirror's hot paths, cheaper; every rollup answers as before.
--
-- 1. The visit list pages through a tenant's visits in id order: an index
--    on (tenant_id, id) lets it read just the page, whatever the planner
--    knows about the table.
CREATE INDEX visits_tenant_id ON visits (tenant_id, id);

-- 2. A visit written marked its day for the route rollup (migration 0020)
--    with a new row each time, so every PUT of a visit wrote two rows. A
--    day already marked is worked out again anyway: the mark is written
--    only when the day has none. SQLite runs one write transaction at a
--    time, and the refresh that takes the marks is one, so a mark seen here
--    is taken by a refresh that starts after this write commits and sees
--    it. The marks are looked up by day.
DROP INDEX route_dirty_tenant;
CREATE INDEX route_dirty_day ON route_dirty (tenant_id, day);

DROP TRIGGER visits_route_insert;
CREATE TRIGGER visits_route_insert AFTER INSERT ON visits
    WHEN NOT EXISTS (SELECT 1 FROM route_dirty WHERE tenant_id = NEW.tenant_id AND day = NEW.service_date)
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (NEW.tenant_id, NEW.service_date);
END;

DROP TRIGGER visits_route_update;
CREATE TRIGGER visits_route_update AFTER UPDATE OF service_date, status, crew_id, route_position, customer_id ON visits
    WHEN OLD.service_date IS NOT NEW.service_date OR OLD.status IS NOT NEW.status OR OLD.crew_id IS NOT NEW.crew_id
        OR OLD.route_position IS NOT NEW.route_position OR OLD.customer_id IS NOT NEW.customer_id
BEGIN
    INSERT INTO route_dirty (tenant_id, day) SELECT OLD.tenant_id, OLD.service_date
    WHERE NOT EXISTS (SELECT 1 FROM route_dirty WHERE tenant_id = OLD.tenant_id AND day = OLD.service_date);
    INSERT INTO route_dirty (tenant_id, day) SELECT NEW.tenant_id, NEW.service_date
    WHERE NEW.service_date IS NOT OLD.service_date
      AND NOT EXISTS (SELECT 1 FROM route_dirty WHERE tenant_id = NEW.tenant_id AND day = NEW.service_date);
END;

DROP TRIGGER visits_route_delete;
CREATE TRIGGER visits_route_delete AFTER DELETE ON visits
    WHEN NOT EXISTS (SELECT 1 FROM route_dirty WHERE tenant_id = OLD.tenant_id AND day = OLD.service_date)
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (OLD.tenant_id, OLD.service_date);
END;
