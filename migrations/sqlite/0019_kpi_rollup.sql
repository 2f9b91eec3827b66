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
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day             TEXT NOT NULL,
    invoiced_visits INTEGER NOT NULL,
    synced_visits   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE kpi_day_groups (
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day            TEXT NOT NULL,
    crew_id        BIGINT,           -- the visit's crew (none: no visit or no crew)
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
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    timezone  TEXT NOT NULL
);

-- kpi_dirty: the moments whose tenant-local day must be worked out again.
-- The database writes them in the same transaction as the fact that
-- changed, whichever code wrote it, so the rollup cannot miss one.
CREATE TABLE kpi_dirty (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    at        DATETIME NOT NULL
);
CREATE INDEX kpi_dirty_tenant ON kpi_dirty (tenant_id, id);

-- An invoice issued, paid, voided, re-dated, moved to another customer or
-- deleted (a new invoice counts nothing until its lines are written).
CREATE TRIGGER invoices_kpi_update AFTER UPDATE ON invoices
    WHEN OLD.status IS NOT NEW.status OR OLD.issued_at IS NOT NEW.issued_at OR OLD.customer_id IS NOT NEW.customer_id
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at) SELECT OLD.tenant_id, OLD.issued_at WHERE OLD.issued_at IS NOT NULL;
    INSERT INTO kpi_dirty (tenant_id, at) SELECT NEW.tenant_id, NEW.issued_at WHERE NEW.issued_at IS NOT NULL;
END;
CREATE TRIGGER invoices_kpi_delete AFTER DELETE ON invoices WHEN OLD.issued_at IS NOT NULL
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at) VALUES (OLD.tenant_id, OLD.issued_at);
END;

-- A line added to, changed on or removed from an invoice that has been
-- issued (a draft's lines count for nothing until it is issued).
CREATE TRIGGER invoice_lines_kpi_insert AFTER INSERT ON invoice_lines
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices WHERE id = NEW.invoice_id AND issued_at IS NOT NULL;
END;
CREATE TRIGGER invoice_lines_kpi_update AFTER UPDATE ON invoice_lines
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices WHERE id IN (OLD.invoice_id, NEW.invoice_id) AND issued_at IS NOT NULL;
END;
CREATE TRIGGER invoice_lines_kpi_delete AFTER DELETE ON invoice_lines
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices WHERE id = OLD.invoice_id AND issued_at IS NOT NULL;
END;

-- A referral that converted (or no longer is), names another friend, or
-- changed its channel or variant: the friend's invoices
-- may belong to another referral now.
CREATE TRIGGER referrals_kpi_insert AFTER INSERT ON referrals WHEN NEW.referee_customer_id IS NOT NULL
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices
    WHERE tenant_id = NEW.tenant_id AND customer_id = NEW.referee_customer_id AND issued_at IS NOT NULL;
END;
CREATE TRIGGER referrals_kpi_update AFTER UPDATE ON referrals
    WHEN OLD.status IS NOT NEW.status OR OLD.referee_customer_id IS NOT NEW.referee_customer_id
        OR OLD.channel IS NOT NEW.channel OR OLD.variant IS NOT NEW.variant OR OLD.created_at IS NOT NEW.created_at
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices
    WHERE tenant_id = NEW.tenant_id AND customer_id IN (OLD.referee_customer_id, NEW.referee_customer_id)
        AND issued_at IS NOT NULL;
END;
CREATE TRIGGER referrals_kpi_delete AFTER DELETE ON referrals WHEN OLD.referee_customer_id IS NOT NULL
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT tenant_id, issued_at FROM invoices
    WHERE tenant_id = OLD.tenant_id AND customer_id = OLD.referee_customer_id AND issued_at IS NOT NULL;
END;

-- A visit given to another crew: its invoices' crew split changes.
CREATE TRIGGER visits_kpi_crew AFTER UPDATE OF crew_id ON visits WHEN OLD.crew_id IS NOT NEW.crew_id
BEGIN
    INSERT INTO kpi_dirty (tenant_id, at)
    SELECT i.tenant_id, i.issued_at FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
    WHERE l.tenant_id = NEW.tenant_id AND l.visit_id = NEW.id AND i.issued_at IS NOT NULL;
END;
