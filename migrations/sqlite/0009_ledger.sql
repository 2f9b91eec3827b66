-- The money ledger (internal/ledger): what each customer is owed — one item
-- per (visit, invoice billing it) for the same-day discount and one per
-- granted reward — what was given (the invoice lines naming the item), and
-- what is still pending or was given in error. Items are re-worked out in
-- the transaction of every write that can change them; this table is what
-- an owner reads back.
CREATE TABLE ledger_items (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_id          BIGINT NOT NULL REFERENCES customers(id),
    item_key             TEXT NOT NULL,
    kind                 TEXT NOT NULL CHECK (kind IN ('sync_discount', 'reward')),
    visit_id             BIGINT REFERENCES visits(id),
    invoice_id           BIGINT REFERENCES invoices(id),
    reward_id            BIGINT REFERENCES rewards(id),
    service_date         DATE,
    owed_cents           BIGINT NOT NULL CHECK (owed_cents >= 0),
    given_cents          BIGINT NOT NULL CHECK (given_cents >= 0),
    frozen_cents         BIGINT NOT NULL CHECK (frozen_cents >= 0),
    pending_cents        BIGINT NOT NULL CHECK (pending_cents >= 0),
    in_error_cents       BIGINT NOT NULL CHECK (in_error_cents >= 0),
    status               TEXT NOT NULL CHECK (status IN ('given', 'on_draft', 'pending', 'given_in_error')),
    reason               TEXT NOT NULL,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    UNIQUE (tenant_id, item_key)
);
CREATE INDEX ledger_items_customer ON ledger_items (tenant_id, customer_id);
CREATE INDEX ledger_items_status ON ledger_items (tenant_id, status, id);

-- Every computed line names the ledger item it gives.
ALTER TABLE invoice_lines ADD COLUMN item_key TEXT;
UPDATE invoice_lines SET item_key = 'sync:' || visit_id || ':' || invoice_id
    WHERE source_key LIKE 'visit:%' AND visit_id IS NOT NULL;
UPDATE invoice_lines SET item_key = (SELECT 'sync:' || a.visit_id || ':' || a.invoice_id FROM sync_adjustments a
    WHERE 'adjustment:' || a.id = invoice_lines.source_key)
    WHERE source_key LIKE 'adjustment:%';
UPDATE invoice_lines SET item_key = 'reward:' || CASE WHEN instr(substr(source_key, 8), ':') > 0 THEN substr(source_key, 8, instr(substr(source_key, 8), ':') - 1) ELSE substr(source_key, 8) END
    WHERE source_key LIKE 'reward:%';

-- The program terms an invoice was issued under, kept when it leaves draft,
-- so a later program change never re-prices it.
ALTER TABLE invoices ADD COLUMN terms_sync_bps INTEGER;
ALTER TABLE invoices ADD COLUMN terms_max_bps INTEGER;
ALTER TABLE invoices ADD COLUMN terms_same_crew BOOLEAN;
UPDATE invoices SET
    terms_sync_bps = COALESCE((SELECT p.sync_discount_bps FROM programs p WHERE p.tenant_id = invoices.tenant_id), 1000),
    terms_max_bps = COALESCE((SELECT p.max_discount_bps FROM programs p WHERE p.tenant_id = invoices.tenant_id), 2000),
    terms_same_crew = COALESCE((SELECT p.sync_requires_same_crew FROM programs p WHERE p.tenant_id = invoices.tenant_id), FALSE)
    WHERE status <> 'draft';

-- Points are spendable: a points reward is worth points x point_value_cents.
UPDATE rewards SET value_cents = points * COALESCE((SELECT p.point_value_cents FROM programs p WHERE p.tenant_id = rewards.tenant_id), 10)
    WHERE kind = 'points' AND value_cents = 0;

-- The nightly reconciliation catches up: the last day and time it finished
-- per tenant, and the pairs it could not settle (the rest of the day goes on).
CREATE TABLE reconcile_state (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    last_day    DATE NOT NULL,
    last_run_at DATETIME NOT NULL
);
CREATE TABLE reconcile_errors (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day         DATE NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    reason      TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX reconcile_errors_tenant ON reconcile_errors (tenant_id, id);

-- How many neighbour links (open or ended) a customer has had: a visit
-- write reads it under the customer's lock to know whether anyone else's
-- discounts can change.
ALTER TABLE customers ADD COLUMN link_count INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET link_count = (SELECT COUNT(*) FROM neighbor_links l
    WHERE l.customer_a_id = customers.id OR l.customer_b_id = customers.id)
    WHERE id IN (SELECT customer_a_id FROM neighbor_links UNION SELECT customer_b_id FROM neighbor_links);
