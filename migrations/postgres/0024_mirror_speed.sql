-- The mirror's hot paths, cheaper; every rollup answers as before.
--
-- 1. The visit list pages through a tenant's visits in id order: an index
--    on (tenant_id, id) lets it read just the page, whatever the planner's
--    statistics say about the table (a bulk import leaves them behind).
CREATE INDEX visits_tenant_id ON visits (tenant_id, id);

-- 2. The rollups' marks on an update (migrations 0019, 0020) were written
--    by statement triggers over transition tables: every UPDATE of a visit,
--    an invoice or a referral copied its old and new rows and ran a join,
--    even when none of the columns the rollups depend on changed, and an
--    INSERT ... ON CONFLICT DO UPDATE (the mirror's PUT of a new visit)
--    fired the UPDATE statement trigger too, for nothing. Row triggers
--    limited to those columns, with the same comparison as their WHEN
--    clause, write the same marks (a day or hour marked twice is worked
--    out once) and cost nothing when nothing they watch changed.
DROP TRIGGER visits_route_update ON visits;
CREATE FUNCTION route_mark_visit_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO route_dirty (tenant_id, day) VALUES (OLD.tenant_id, OLD.service_date);
    IF NEW.service_date IS DISTINCT FROM OLD.service_date THEN
        INSERT INTO route_dirty (tenant_id, day) VALUES (OLD.tenant_id, NEW.service_date);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_route_update AFTER UPDATE OF service_date, status, crew_id, route_position, customer_id ON visits
    FOR EACH ROW WHEN ((OLD.service_date, OLD.status, OLD.crew_id, OLD.route_position, OLD.customer_id)
        IS DISTINCT FROM (NEW.service_date, NEW.status, NEW.crew_id, NEW.route_position, NEW.customer_id))
    EXECUTE FUNCTION route_mark_visit_update();

DROP TRIGGER invoices_kpi_update ON invoices;
CREATE FUNCTION kpi_mark_invoice_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.issued_at IS NOT NULL THEN
        INSERT INTO kpi_dirty (tenant_id, at) VALUES (OLD.tenant_id, date_trunc('hour', OLD.issued_at));
    END IF;
    IF NEW.issued_at IS NOT NULL
       AND date_trunc('hour', NEW.issued_at) IS DISTINCT FROM date_trunc('hour', OLD.issued_at) THEN
        INSERT INTO kpi_dirty (tenant_id, at) VALUES (OLD.tenant_id, date_trunc('hour', NEW.issued_at));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_kpi_update AFTER UPDATE OF status, issued_at, customer_id ON invoices
    FOR EACH ROW WHEN ((OLD.status, OLD.issued_at, OLD.customer_id) IS DISTINCT FROM (NEW.status, NEW.issued_at, NEW.customer_id))
    EXECUTE FUNCTION kpi_mark_invoice_update();

DROP TRIGGER referrals_kpi_update ON referrals;
CREATE FUNCTION kpi_mark_referral_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at) FROM invoices i
    WHERE i.tenant_id = OLD.tenant_id AND i.customer_id IN (OLD.referee_customer_id, NEW.referee_customer_id)
        AND i.issued_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER referrals_kpi_update AFTER UPDATE OF status, referee_customer_id, channel, variant, created_at ON referrals
    FOR EACH ROW WHEN ((OLD.status, OLD.referee_customer_id, OLD.channel, OLD.variant, OLD.created_at)
        IS DISTINCT FROM (NEW.status, NEW.referee_customer_id, NEW.channel, NEW.variant, NEW.created_at))
    EXECUTE FUNCTION kpi_mark_referral_update();
