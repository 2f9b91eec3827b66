-- Crew points follow the pitch rule, and ratings keep their history.

-- A pitch logged where the rule said skip is kept (it happened) but earns no
-- points; skip_reason says why (NULL: the rule said pitch).
ALTER TABLE pitches ADD COLUMN skip_reason TEXT;
-- A friend's conversion looks up the pitch that brought the referral.
CREATE INDEX pitches_referral ON pitches (tenant_id, referral_id);

-- Every rating is kept: a visit may be rated many times, and a later rating
-- never overwrites an earlier one. A complaint stays open until a dispatcher
-- resolves it with a note.
ALTER TABLE ratings DROP CONSTRAINT ratings_tenant_id_visit_id_key;
ALTER TABLE ratings ADD COLUMN resolution_note TEXT NOT NULL DEFAULT '';
ALTER TABLE ratings ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
CREATE INDEX ratings_visit ON ratings (tenant_id, visit_id, created_at);
