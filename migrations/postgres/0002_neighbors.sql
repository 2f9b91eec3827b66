-- Program settings, neighbour links, same-day sync discounts and the
-- adjustments they leave on invoices already issued.

-- A coarse cell id (geo.Cell) so "who lives near X" reads an index, not the table.
ALTER TABLE customers ADD COLUMN geo_cell BIGINT;
CREATE INDEX customers_cell ON customers (tenant_id, geo_cell);
CREATE INDEX customers_lat ON customers (tenant_id, lat);

CREATE TABLE programs (
    tenant_id               UUID PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    neighbor_radius_m       INTEGER NOT NULL DEFAULT 500 CHECK (neighbor_radius_m BETWEEN 1 AND 5000),
    sync_discount_bps       INTEGER NOT NULL DEFAULT 1000 CHECK (sync_discount_bps BETWEEN 0 AND 10000),
    max_discount_bps        INTEGER NOT NULL DEFAULT 2000 CHECK (max_discount_bps BETWEEN 0 AND 10000),
    sync_requires_same_crew BOOLEAN NOT NULL DEFAULT FALSE,
    service_areas           TEXT NOT NULL DEFAULT '',
    updated_at              TIMESTAMPTZ NOT NULL
);

CREATE TABLE neighbor_links (
    id            BIGSERIAL PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_a_id BIGINT NOT NULL REFERENCES customers(id),
    customer_b_id BIGINT NOT NULL REFERENCES customers(id),
    distance_m    INTEGER NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('referral', 'dispatcher')),
    referral_id   BIGINT,
    starts_on     DATE NOT NULL,
    ends_on       DATE,
    end_reason    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CHECK (customer_a_id < customer_b_id),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
-- At most one open link per pair; ended ones stay as history.
CREATE UNIQUE INDEX neighbor_links_open ON neighbor_links (tenant_id, customer_a_id, customer_b_id) WHERE ends_on IS NULL;
CREATE INDEX neighbor_links_a ON neighbor_links (tenant_id, customer_a_id);
CREATE INDEX neighbor_links_b ON neighbor_links (tenant_id, customer_b_id);

-- Computed lines are keyed by what produced them (e.g. visit:42), so a
-- recomputation or a concurrent one can never add a second.
ALTER TABLE invoice_lines ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX invoice_lines_source ON invoice_lines (invoice_id, kind, source_key);

-- A sync discount found after its invoice was issued (owed as a credit on the
-- customer's next draft), or one given that no longer holds (recorded for the
-- admin, never clawed back silently).
CREATE TABLE sync_adjustments (
    id                   BIGSERIAL PRIMARY KEY,
    tenant_id            UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL CHECK (kind IN ('late_discount', 'given_in_error')),
    customer_id          BIGINT NOT NULL REFERENCES customers(id),
    visit_id             BIGINT NOT NULL REFERENCES visits(id),
    invoice_id           BIGINT NOT NULL REFERENCES invoices(id),
    amount_cents         BIGINT NOT NULL CHECK (amount_cents >= 0),
    reason               TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'recorded')),
    applied_invoice_id   BIGINT REFERENCES invoices(id),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, kind, invoice_id, visit_id)
);
CREATE INDEX sync_adjustments_customer ON sync_adjustments (tenant_id, customer_id, status);

CREATE INDEX visits_day_customer ON visits (tenant_id, service_date, customer_id);
