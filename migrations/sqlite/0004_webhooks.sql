-- Webhooks in (signed, deduplicated) and out (an outbox written in the same
-- transaction as the change, delivered at least once with backoff).

-- Inbound signing secrets: several may be active at once, for rotation.
CREATE TABLE webhook_secrets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX webhook_secrets_tenant ON webhook_secrets (tenant_id, id);

-- Every inbound delivery by its webhook-id: a replay answers with the first
-- result and changes nothing. Kept at least 7 days.
CREATE TABLE webhook_inbox (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    webhook_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    result      TEXT NOT NULL DEFAULT '',
    received_at DATETIME NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id)
);
CREATE INDEX webhook_inbox_received ON webhook_inbox (received_at);

-- The scheduler's own change time, so an older delivery never overwrites
-- newer data.
ALTER TABLE customers ADD COLUMN source_updated_at DATETIME;
ALTER TABLE crews ADD COLUMN source_updated_at DATETIME;
ALTER TABLE visits ADD COLUMN source_updated_at DATETIME;
ALTER TABLE invoices ADD COLUMN source_updated_at DATETIME;

CREATE TABLE webhook_endpoints (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    event_types   TEXT NOT NULL DEFAULT '[]',
    secret        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'failing', 'disabled')),
    failing_since DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, id);

CREATE TABLE outbox_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX outbox_events_tenant ON outbox_events (tenant_id, id);

-- One row per event and endpoint: its attempts and outcome.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL REFERENCES outbox_events(id) ON DELETE CASCADE,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    locked_until    DATETIME,
    last_attempt_at DATETIME,
    last_status     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, status, id);
