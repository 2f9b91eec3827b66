-- The referral engine: referrals from any channel, link clicks, the reward
-- ledger and its invoice applications, and the log of review decisions.

-- Normalised contact data, so matching and fraud checks read an index.
ALTER TABLE customers ADD COLUMN email_norm TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN phone_norm TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN street_norm TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN name_norm TEXT NOT NULL DEFAULT '';
CREATE INDEX customers_email_norm ON customers (tenant_id, email_norm) WHERE email_norm <> '';
CREATE INDEX customers_phone_norm ON customers (tenant_id, phone_norm) WHERE phone_norm <> '';
CREATE INDEX customers_name_norm ON customers (tenant_id, name_norm);

ALTER TABLE programs ADD COLUMN country TEXT NOT NULL DEFAULT 'US';
ALTER TABLE programs ADD COLUMN offers TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN referrer_cap INTEGER NOT NULL DEFAULT 32;
ALTER TABLE programs ADD COLUMN yearly_cap INTEGER NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN monthly_budget_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN attribution_days INTEGER NOT NULL DEFAULT 60;
ALTER TABLE programs ADD COLUMN convert_on TEXT NOT NULL DEFAULT 'first_completed_visit';
ALTER TABLE programs ADD COLUMN burst_max INTEGER NOT NULL DEFAULT 5;
ALTER TABLE programs ADD COLUMN burst_hours INTEGER NOT NULL DEFAULT 24;
ALTER TABLE programs ADD COLUMN estimated_visit_cents BIGINT NOT NULL DEFAULT 5000;

CREATE TABLE referral_clicks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    referrer_id BIGINT NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX referral_clicks_referrer ON referral_clicks (tenant_id, referrer_id, created_at);

CREATE TABLE referrals (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    referrer_id         BIGINT REFERENCES customers(id),
    referee_customer_id BIGINT REFERENCES customers(id),
    referee_key         TEXT NOT NULL,
    referee_name        TEXT NOT NULL,
    referee_email       TEXT NOT NULL DEFAULT '',
    referee_phone       TEXT NOT NULL DEFAULT '',
    referee_address     TEXT NOT NULL DEFAULT '',
    referee_lat         REAL,
    referee_lon         REAL,
    referee_email_norm  TEXT NOT NULL DEFAULT '',
    referee_phone_norm  TEXT NOT NULL DEFAULT '',
    channel             TEXT NOT NULL CHECK (channel IN ('link', 'code', 'card', 'crew_pitch', 'name_only')),
    crew_member_id      BIGINT REFERENCES crew_members(id),
    click_id            BIGINT REFERENCES referral_clicks(id),
    variant             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('pending', 'pending_review', 'converted', 'rejected')),
    flags               TEXT NOT NULL DEFAULT '[]',
    candidates          TEXT NOT NULL DEFAULT '[]',
    within_radius       BOOLEAN NOT NULL DEFAULT 0,
    distance_m          INTEGER,
    note                TEXT NOT NULL DEFAULT '',
    converted_at        DATETIME,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
-- The same friend referred twice by the same customer is one referral.
CREATE UNIQUE INDEX referrals_pair ON referrals (tenant_id, referrer_id, referee_key);
-- ... and while the referrer is not known yet (named by a friend, in review).
CREATE UNIQUE INDEX referrals_unattributed ON referrals (tenant_id, referee_key) WHERE referrer_id IS NULL;
CREATE INDEX referrals_referrer ON referrals (tenant_id, referrer_id, created_at);
CREATE INDEX referrals_referee ON referrals (tenant_id, referee_customer_id);
CREATE INDEX referrals_referee_email ON referrals (tenant_id, referee_email_norm) WHERE referee_email_norm <> '';
CREATE INDEX referrals_referee_phone ON referrals (tenant_id, referee_phone_norm) WHERE referee_phone_norm <> '';
CREATE INDEX referrals_status ON referrals (tenant_id, status, id);

-- Append-only: one entry per referral and role (the idempotency key), its
-- value and why; balances are derived from it.
CREATE TABLE rewards (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    referral_id     BIGINT NOT NULL REFERENCES referrals(id),
    role            TEXT NOT NULL CHECK (role IN ('referrer', 'referee')),
    kind            TEXT NOT NULL CHECK (kind IN ('percent_next_invoice', 'fixed_credit', 'free_addon', 'points')),
    bps             INTEGER NOT NULL DEFAULT 0,
    amount_cents    BIGINT NOT NULL DEFAULT 0,
    points          INTEGER NOT NULL DEFAULT 0,
    addon_name      TEXT NOT NULL DEFAULT '',
    value_cents     BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('granted', 'pending_budget', 'capped')),
    budget_month    TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    released_at     DATETIME,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX rewards_customer ON rewards (tenant_id, customer_id, id);
CREATE INDEX rewards_budget ON rewards (tenant_id, status, budget_month);

-- Where a reward was spent: one row per reward and invoice.
CREATE TABLE reward_applications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    reward_id    BIGINT NOT NULL REFERENCES rewards(id),
    invoice_id   BIGINT NOT NULL REFERENCES invoices(id),
    amount_cents BIGINT NOT NULL,
    UNIQUE (reward_id, invoice_id)
);
CREATE INDEX reward_applications_invoice ON reward_applications (tenant_id, invoice_id);

CREATE TABLE referral_decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    referral_id BIGINT NOT NULL REFERENCES referrals(id),
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX referral_decisions_referral ON referral_decisions (tenant_id, referral_id, id);

-- Server secrets shared by every replica (signing landing-page cookies,
-- hashing visitor fingerprints), made on first use.
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
