-- A referrer's offer variant is stored on first use and read from here
-- ever after, so adding, removing or re-weighting offers moves nobody. One
-- row per tenant, customer and test (the offer test is 'offer'); the key
-- makes two first requests at once store one assignment.
CREATE TABLE offer_assignments (
    tenant_id        UUID NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_id      BIGINT NOT NULL REFERENCES customers(id),
    test             TEXT NOT NULL,
    variant          TEXT NOT NULL,
    -- The variant held before, when the owner removed it and the referrer
    -- was assigned again on their next use.
    previous_variant TEXT NOT NULL DEFAULT '',
    assigned_at      TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, test)
);

-- Referrers who referred before assignments were stored keep the variant of
-- their first referral.
INSERT INTO offer_assignments (tenant_id, customer_id, test, variant, assigned_at, updated_at)
SELECT r.tenant_id, r.referrer_id, 'offer', r.variant, r.created_at, r.created_at FROM referrals r
WHERE r.referrer_id IS NOT NULL AND r.variant <> '' AND r.id = (SELECT MIN(f.id) FROM referrals f
    WHERE f.tenant_id = r.tenant_id AND f.referrer_id = r.referrer_id AND f.variant <> '');

-- The offer a referral was made under (its variant's rewards, JSON), so the
-- friend and the referrer get what they were promised even when the owner
-- changes or removes the variant before the referral converts. Empty for
-- referrals made before: they read the variant's current rewards.
ALTER TABLE referrals ADD COLUMN offer TEXT NOT NULL DEFAULT '';
