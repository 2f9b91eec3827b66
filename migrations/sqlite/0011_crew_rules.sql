-- Crew points follow the pitch rule, and ratings keep their history.

-- A pitch logged where the rule said skip is kept (it happened) but earns no
-- points; skip_reason says why (NULL: the rule said pitch).
ALTER TABLE pitches ADD COLUMN skip_reason TEXT;
-- A friend's conversion looks up the pitch that brought the referral.
CREATE INDEX pitches_referral ON pitches (tenant_id, referral_id);

-- Every rating is kept: a visit may be rated many times, and a later rating
-- never overwrites an earlier one. A complaint stays open until a dispatcher
-- resolves it with a note. SQLite cannot drop the old one-per-visit UNIQUE,
-- so the table is built again (nothing refers to ratings).
CREATE TABLE ratings_history (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    visit_id        BIGINT NOT NULL REFERENCES visits(id),
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         TEXT NOT NULL DEFAULT '',
    complaint       BOOLEAN NOT NULL DEFAULT 0,
    resolved_at     DATETIME,
    resolution_note TEXT NOT NULL DEFAULT '',
    resolved_by     TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
INSERT INTO ratings_history (id, tenant_id, customer_id, visit_id, score, comment, complaint, resolved_at, created_at)
    SELECT id, tenant_id, customer_id, visit_id, score, comment, complaint, resolved_at, created_at FROM ratings;
DROP TABLE ratings;
ALTER TABLE ratings_history RENAME TO ratings;
CREATE INDEX ratings_customer ON ratings (tenant_id, customer_id, created_at);
CREATE INDEX ratings_created ON ratings (tenant_id, created_at);
CREATE INDEX ratings_visit ON ratings (tenant_id, visit_id, created_at);
