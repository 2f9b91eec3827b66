-- Referral integrity: a friend is credited to one referrer (later referrals
-- of the same friend are kept as duplicates), a referral can expire at
-- conversion, and rewards can wait out a hold period or be voided.
ALTER TABLE referrals DROP CONSTRAINT referrals_status_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_status_check
    CHECK (status IN ('pending', 'pending_review', 'converted', 'rejected', 'duplicate', 'expired'));
ALTER TABLE referrals ADD COLUMN duplicate_of BIGINT REFERENCES referrals(id);

ALTER TABLE rewards DROP CONSTRAINT rewards_status_check;
ALTER TABLE rewards ADD CONSTRAINT rewards_status_check
    CHECK (status IN ('granted', 'pending_budget', 'capped', 'held', 'voided'));

-- reward.earned is now reward.granted, with reward.held and reward.released
-- beside it: endpoints that asked for it keep receiving what it meant.
UPDATE webhook_endpoints SET event_types = REPLACE(event_types, '"reward.earned"', '"reward.granted","reward.held","reward.released"');
