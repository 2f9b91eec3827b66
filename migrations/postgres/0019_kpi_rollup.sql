-- The owner's KPIs over long periods read a per-day rollup of the invoices
-- (internal/insight/rollup.go) instead of every invoice line.
--
-- kpi_days holds, per tenant and tenant-local day of issue, the visits billed
-- on issued or paid invoices and those given a same-day discount.
-- kpi_day_groups holds, per day and per group a KPI split can ask for (the
-- crew of the visit billed; the channel and offer variant of the referral
-- the revenue belongs to), the referred revenue and the sync discounts. Both are a function of the facts alone, worked out
-- again for any day whose facts changed.
CREATE TABLE kpi_days (
    tenant_id       UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day             DATE NOT NULL,
    invoiced_visits INTEGER NOT NULL,
    synced_visits   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE kpi_day_groups (
    tenant_id      UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day            DATE NOT NULL,
    crew_id        BIGINT,          -- the visit's crew (none: no visit or no crew)
    referred       BOOLEAN NOT NULL, -- the invoice belongs to a converted referral
    ref_channel    TEXT NOT NULL,    -- that referral's channel and offer
    ref_variant    TEXT NOT NULL,    -- variant ('' when not referred)
    service_lines  INTEGER NOT NULL, -- the lines behind each sum
    revenue_cents  BIGINT NOT NULL,  -- (service lines: referred or not)
    sync_lines     INTEGER NOT NULL,
    sync_cents     BIGINT NOT NULL
);
CREATE INDEX kpi_day_groups_day ON kpi_day_groups (tenant_id, day);

-- The tenant's zone the rollup was worked out in: a new zone moves every
-- day's boundaries, so the rollup is worked out again.
CREATE TABLE kpi_rollup_state (
    tenant_id UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    timezone  TEXT NOT NULL
);

-- kpi_dirty: the moments (to the hour) whose tenant-local day must be worked
-- out again. The database writes them in the same transaction as the fact
-- that changed, whichever code wrote it, so the rollup cannot miss one;
-- each statement writes each hour once.
CREATE TABLE kpi_dirty (
    id        BIGSERIAL PRIMARY KEY,
    tenant_id UUID NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX kpi_dirty_tenant ON kpi_dirty (tenant_id, id);

-- An invoice issued, paid, voided, re-dated, moved to another customer or
-- deleted (a new invoice counts nothing until its lines are written).
CREATE FUNCTION kpi_mark_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT tenant_id, date_trunc('hour', issued_at) FROM old_rows WHERE issued_at IS NOT NULL;
    ELSE
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT c.tenant_id, date_trunc('hour', c.issued_at) FROM (
            SELECT o.tenant_id, o.issued_at, n.issued_at AS new_issued_at FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.issued_at, o.customer_id) IS DISTINCT FROM (n.status, n.issued_at, n.customer_id)
        ) ch, LATERAL (VALUES (ch.tenant_id, ch.issued_at), (ch.tenant_id, ch.new_issued_at)) c (tenant_id, issued_at)
        WHERE c.issued_at IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_kpi_update AFTER UPDATE ON invoices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_invoices();
CREATE TRIGGER invoices_kpi_delete AFTER DELETE ON invoices REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_invoices();

-- A line added to, changed on or removed from an invoice that has been
-- issued (a draft's lines count for nothing until it is issued).
CREATE FUNCTION kpi_mark_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at)
        FROM invoices i WHERE i.id IN (SELECT invoice_id FROM new_rows) AND i.issued_at IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at)
        FROM invoices i WHERE i.id IN (SELECT invoice_id FROM old_rows) AND i.issued_at IS NOT NULL;
    ELSE
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at)
        FROM invoices i WHERE i.id IN (SELECT invoice_id FROM old_rows UNION SELECT invoice_id FROM new_rows)
            AND i.issued_at IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER invoice_lines_kpi_insert AFTER INSERT ON invoice_lines REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_lines();
CREATE TRIGGER invoice_lines_kpi_update AFTER UPDATE ON invoice_lines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_lines();
CREATE TRIGGER invoice_lines_kpi_delete AFTER DELETE ON invoice_lines REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_lines();

-- A referral that converted (or no longer is), names another friend, or
-- changed its channel or variant: the friend's invoices
-- may belong to another referral now.
CREATE FUNCTION kpi_mark_referrals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at) FROM invoices i
        JOIN (SELECT DISTINCT tenant_id, referee_customer_id FROM new_rows) f
            ON i.tenant_id = f.tenant_id AND i.customer_id = f.referee_customer_id
        WHERE i.issued_at IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at) FROM invoices i
        JOIN (SELECT DISTINCT tenant_id, referee_customer_id FROM old_rows) f
            ON i.tenant_id = f.tenant_id AND i.customer_id = f.referee_customer_id
        WHERE i.issued_at IS NOT NULL;
    ELSE
        INSERT INTO kpi_dirty (tenant_id, at)
        SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at) FROM invoices i
        JOIN (
            SELECT o.tenant_id, o.referee_customer_id AS old_referee, n.referee_customer_id AS new_referee
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.referee_customer_id, o.channel, o.variant, o.created_at)
                IS DISTINCT FROM (n.status, n.referee_customer_id, n.channel, n.variant, n.created_at)
        ) f ON i.tenant_id = f.tenant_id AND i.customer_id IN (f.old_referee, f.new_referee)
        WHERE i.issued_at IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER referrals_kpi_insert AFTER INSERT ON referrals REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_referrals();
CREATE TRIGGER referrals_kpi_update AFTER UPDATE ON referrals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_referrals();
CREATE TRIGGER referrals_kpi_delete AFTER DELETE ON referrals REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION kpi_mark_referrals();

-- A visit given to another crew: its invoices' crew split changes.
CREATE FUNCTION kpi_mark_visit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT DISTINCT i.tenant_id, date_trunc('hour', i.issued_at)
    FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
    WHERE l.tenant_id = NEW.tenant_id AND l.visit_id = NEW.id AND i.issued_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_kpi_crew AFTER UPDATE OF crew_id ON visits
    FOR EACH ROW WHEN (OLD.crew_id IS DISTINCT FROM NEW.crew_id) EXECUTE FUNCTION kpi_mark_visit();
