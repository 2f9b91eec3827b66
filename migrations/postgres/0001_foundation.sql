-- Tenants, API keys and the scheduler's mirror: customers, crews, visits, invoices.

CREATE TABLE tenants (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    currency    CHAR(3) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'crew', 'integration')),
    label        TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE customers (
    id                BIGSERIAL PRIMARY KEY,
    tenant_id         UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    name              TEXT NOT NULL,
    email             TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL DEFAULT '',
    lat               DOUBLE PRECISION,
    lon               DOUBLE PRECISION,
    consent_same_day  BOOLEAN NOT NULL DEFAULT FALSE,
    referral_code     TEXT NOT NULL UNIQUE,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX customers_tenant_updated ON customers (tenant_id, updated_at, id);

CREATE TABLE crews (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    depot_lat   DOUBLE PRECISION NOT NULL,
    depot_lon   DOUBLE PRECISION NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, external_id)
);

CREATE TABLE crew_members (
    id          BIGSERIAL PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    crew_id     BIGINT NOT NULL REFERENCES crews(id),
    external_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX crew_members_crew ON crew_members (tenant_id, crew_id);

CREATE TABLE visits (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    external_id    TEXT NOT NULL,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    crew_id        BIGINT REFERENCES crews(id),
    service_date   DATE NOT NULL,
    start_at       TIMESTAMPTZ,
    route_position INTEGER,
    duration_min   INTEGER,
    status         TEXT NOT NULL CHECK (status IN ('scheduled', 'completed', 'cancelled')),
    price_cents    BIGINT NOT NULL CHECK (price_cents >= 0),
    source         TEXT NOT NULL DEFAULT 'scheduler',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX visits_day_crew ON visits (tenant_id, service_date, crew_id);
CREATE INDEX visits_customer_day ON visits (tenant_id, customer_id, service_date);

CREATE TABLE invoices (
    id             BIGSERIAL PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    external_id    TEXT NOT NULL,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    status         TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency       CHAR(3) NOT NULL,
    subtotal_cents BIGINT NOT NULL,
    discount_cents BIGINT NOT NULL,
    total_cents    BIGINT NOT NULL CHECK (total_cents >= 0),
    public_token   TEXT NOT NULL UNIQUE,
    issued_at      TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX invoices_customer ON invoices (tenant_id, customer_id, id);

CREATE TABLE invoice_lines (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    invoice_id   BIGINT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('service', 'sync_discount', 'referral_reward', 'credit', 'addon')),
    visit_id     BIGINT REFERENCES visits(id),
    description  TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    UNIQUE (invoice_id, position)
);
CREATE INDEX invoice_lines_visit ON invoice_lines (tenant_id, visit_id);
