-- A referral made on the landing page keeps the channel its link carried
-- (?ch=): besides link, code, card, crew_pitch and name_only, the crew
-- page's QR code (crew), the invoice page (invoice), and links handed out
-- by text, e-mail or social media (sms, email, social).
--
-- SQLite cannot change a CHECK constraint in place: the table is copied
-- aside, dropped, created again (with every column added since 0010) and
-- filled back, inside this migration's transaction, and its indexes and
-- triggers are made again. The rows referring to it (none cascade) are
-- checked at commit (deferred), after the table is filled again under its
-- own name.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE referrals_kept AS SELECT * FROM referrals;
DROP TABLE referrals;
CREATE TABLE referrals (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    referrer_id          BIGINT REFERENCES customers(id),
    referee_customer_id  BIGINT REFERENCES customers(id),
    referee_key          TEXT NOT NULL,
    referee_name         TEXT NOT NULL,
    referee_email        TEXT NOT NULL DEFAULT '',
    referee_phone        TEXT NOT NULL DEFAULT '',
    referee_address      TEXT NOT NULL DEFAULT '',
    referee_lat          REAL,
    referee_lon          REAL,
    referee_email_norm   TEXT NOT NULL DEFAULT '',
    referee_phone_norm   TEXT NOT NULL DEFAULT '',
    channel              TEXT NOT NULL CHECK (channel IN ('link', 'code', 'card', 'crew_pitch', 'name_only',
                                                          'crew', 'invoice', 'sms', 'email', 'social')),
    crew_member_id       BIGINT REFERENCES crew_members(id),
    click_id             BIGINT REFERENCES referral_clicks(id),
    variant              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL CHECK (status IN ('pending', 'pending_review', 'converted', 'rejected', 'duplicate', 'expired')),
    flags                TEXT NOT NULL DEFAULT '[]',
    candidates           TEXT NOT NULL DEFAULT '[]',
    within_radius        BOOLEAN NOT NULL DEFAULT 0,
    distance_m           INTEGER,
    note                 TEXT NOT NULL DEFAULT '',
    converted_at         DATETIME,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    duplicate_of         BIGINT REFERENCES referrals(id),
    qualified_visit_id   BIGINT REFERENCES visits(id),
    qualified_invoice_id BIGINT REFERENCES invoices(id),
    offer                TEXT NOT NULL DEFAULT '',
    consent_same_day     BOOLEAN NOT NULL DEFAULT FALSE,
    consent_marketing    BOOLEAN NOT NULL DEFAULT FALSE,
    location_source      TEXT NOT NULL DEFAULT '',
    location_note        TEXT NOT NULL DEFAULT '',
    utm                  TEXT NOT NULL DEFAULT ''
);
INSERT INTO referrals (id, tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, referee_email,
        referee_phone, referee_address, referee_lat, referee_lon, referee_email_norm, referee_phone_norm, channel,
        crew_member_id, click_id, variant, status, flags, candidates, within_radius, distance_m, note, converted_at,
        created_at, updated_at, duplicate_of, qualified_visit_id, qualified_invoice_id, offer, consent_same_day,
        consent_marketing, location_source, location_note, utm)
    SELECT id, tenant_id, referrer_id, referee_customer_id, referee_key, referee_name, referee_email,
        referee_phone, referee_address, referee_lat, referee_lon, referee_email_norm, referee_phone_norm, channel,
        crew_member_id, click_id, variant, status, flags, candidates, within_radius, distance_m, note, converted_at,
        created_at, updated_at, duplicate_of, qualified_visit_id, qualified_invoice_id, offer, consent_same_day,
        consent_marketing, location_source, location_note, utm
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

-- The KPI roll-up's triggers (0019), as they were.
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
