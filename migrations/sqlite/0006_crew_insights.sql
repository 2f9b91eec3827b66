-- The crew program (scripts, satisfaction, pitches, points, milestones) and
-- indexes for the owner's insights.

ALTER TABLE programs ADD COLUMN points_per_pitch INTEGER NOT NULL DEFAULT 1;
ALTER TABLE programs ADD COLUMN points_per_referral INTEGER NOT NULL DEFAULT 5;
ALTER TABLE programs ADD COLUMN points_per_conversion INTEGER NOT NULL DEFAULT 20;
ALTER TABLE programs ADD COLUMN repitch_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE programs ADD COLUMN point_value_cents INTEGER NOT NULL DEFAULT 10;

CREATE TABLE scripts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (tenant_id, name)
);

-- A customer's 1–5 rating of a visit; one per visit (a new one replaces it).
CREATE TABLE ratings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    visit_id    BIGINT NOT NULL REFERENCES visits(id),
    score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     TEXT NOT NULL DEFAULT '',
    complaint   BOOLEAN NOT NULL DEFAULT 0,
    resolved_at DATETIME,
    created_at  DATETIME NOT NULL,
    UNIQUE (tenant_id, visit_id)
);
CREATE INDEX ratings_customer ON ratings (tenant_id, customer_id, created_at);
CREATE INDEX ratings_created ON ratings (tenant_id, created_at);

CREATE TABLE pitches (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    visit_id       BIGINT NOT NULL REFERENCES visits(id),
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    crew_member_id BIGINT NOT NULL REFERENCES crew_members(id),
    script         TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL CHECK (outcome IN ('pitched', 'declined', 'referral_given')),
    referral_id    BIGINT REFERENCES referrals(id),
    created_at     DATETIME NOT NULL,
    UNIQUE (tenant_id, visit_id, crew_member_id)
);
CREATE INDEX pitches_customer ON pitches (tenant_id, customer_id, created_at);
CREATE INDEX pitches_member ON pitches (tenant_id, crew_member_id, created_at);

-- Crew points: a ledger like rewards, one entry per idempotency key.
CREATE TABLE crew_points (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    crew_member_id  BIGINT NOT NULL REFERENCES crew_members(id),
    kind            TEXT NOT NULL CHECK (kind IN ('pitch', 'referral_given', 'conversion')),
    points          INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX crew_points_member ON crew_points (tenant_id, crew_member_id, created_at);
CREATE INDEX crew_points_created ON crew_points (tenant_id, created_at);

CREATE TABLE milestones (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    metric     TEXT NOT NULL CHECK (metric IN ('conversions', 'referrals', 'pitches', 'points')),
    target     INTEGER NOT NULL CHECK (target > 0),
    period     TEXT NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    reward     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    UNIQUE (tenant_id, name)
);

-- A milestone reached in one period (e.g. 2026-Q2), once.
CREATE TABLE milestone_hits (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    milestone_id BIGINT NOT NULL REFERENCES milestones(id) ON DELETE CASCADE,
    period_key   TEXT NOT NULL,
    reached_at   DATETIME NOT NULL,
    PRIMARY KEY (milestone_id, period_key)
);

-- Insights read by period.
CREATE INDEX referrals_created ON referrals (tenant_id, created_at);
CREATE INDEX referrals_converted ON referrals (tenant_id, converted_at);
CREATE INDEX rewards_created ON rewards (tenant_id, created_at);
CREATE INDEX invoices_issued ON invoices (tenant_id, issued_at);
CREATE INDEX customers_created ON customers (tenant_id, created_at);
