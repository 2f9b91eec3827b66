-- Referral integrity: a friend is credited to one referrer (later referrals
-- of the same friend are kept as duplicates), a referral can expire at
-- conversion, and rewards can wait out a hold period or be voided.
--
-- SQLite cannot change a CHECK constraint in place: each table is copied
-- aside, dropped, created again and filled back, inside this migration's
-- transaction. The rows referring to it are checked at commit (deferred),
-- after the table is filled again under its own name.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE referrals_kept AS SELECT * FROM referrals;
DROP TABLE referrals;
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
    status              TEXT NOT NULL CHECK (status IN ('pending', 'pending_review', 'converted', 'rejected', 'duplicate', 'expired')),
    flags               TEXT NOT NULL DEFAULT '[]',
    candidates          TEXT NOT NULL DEFAULT '[]',
    within_radius       BOOLEAN NOT NULL DEFAULT 0,
    distance_m          INTEGER,
    note                TEXT NOT NULL DEFAULT '',
    converted_at        DATETIME,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL,
    duplicate_of        BIGINT REFERENCES referrals(id)
);
INSERT INTO referrals (id, tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, referee_email,
        referee_phone, referee_address, referee_lat, referee_lon, referee_email_norm, referee_phone_norm, channel,
        crew_member_id, click_id, variant, status, flags, candidates, within_radius, distance_m, note, converted_at,
        created_at, updated_at)
    SELECT id, tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, referee_email,
        referee_phone, referee_address, referee_lat, referee_lon, referee_email_norm, referee_phone_norm, channel,
        crew_member_id, click_id, variant, status, flags, candidates, within_radius, distance_m, note, converted_at,
        created_at, updated_at
    FROM referrals_kept;
DROP TABLE referrals_kept;
CREATE UNIQUE INDEX referrals_pair ON referrals (tenant_id, referrer_id, referee_key);
CREATE UNIQUE INDEX referrals_unattributed ON referrals (tenant_id, referee_key) WHERE referrer_id IS NULL;
CREATE INDEX referrals_referrer ON referrals (tenant_id, referrer_id, created_at);
CREATE INDEX referrals_referee ON referrals (tenant_id, referee_customer_id);
CREATE INDEX referrals_referee_email ON referrals (tenant_id, referee_email_norm) WHERE referee_email_norm <> '';
CREATE INDEX referrals_referee_phone ON referrals (tenant_id, referee_phone_norm) WHERE referee_phone_norm <> '';
CREATE INDEX referrals_status ON referrals (tenant_id, status, id);
CREATE INDEX referrals_created ON referrals (tenant_id, created_at);
CREATE INDEX referrals_converted ON referrals (tenant_id, converted_at);
CREATE INDEX referrals_referee_converted ON referrals (tenant_id, referee_customer_id, id) WHERE status = 'converted';

CREATE TABLE rewards_kept AS SELECT * FROM rewards;
DROP TABLE rewards;
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
    status          TEXT NOT NULL CHECK (status IN ('granted', 'pending_budget', 'capped', 'held', 'voided')),
    budget_month    TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    released_at     DATETIME,
    UNIQUE (tenant_id, idempotency_key)
);
INSERT INTO rewards (id, tenant_id, customer_id, referral_id, role, kind, bps, amount_cents, points, addon_name,
        value_cents, status, budget_month, reason, idempotency_key, created_at, released_at)
    SELECT id, tenant_id, customer_id, referral_id, role, kind, bps, amount_cents, points, addon_name,
        value_cents, status, budget_month, reason, idempotency_key, created_at, released_at
    FROM rewards_kept;
DROP TABLE rewards_kept;
CREATE INDEX rewards_customer ON rewards (tenant_id, customer_id, id);
CREATE INDEX rewards_budget ON rewards (tenant_id, status, budget_month);
CREATE INDEX rewards_created ON rewards (tenant_id, created_at);

-- reward.earned is now reward.granted, with reward.held and reward.released
-- beside it: endpoints that asked for it keep receiving what it meant.
UPDATE webhook_endpoints SET event_types = REPLACE(event_types, '"reward.earned"', '"reward.granted","reward.held","reward.released"');
