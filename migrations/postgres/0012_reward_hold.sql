-- Rewards can wait out a hold period (programs.reward_hold_days, 0: off)
-- before they count: hold_until is the tenant-local day the hold ends.
-- A referral remembers what qualified it, so a cancellation or a void
-- during the hold voids its rewards.
ALTER TABLE programs ADD COLUMN reward_hold_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rewards ADD COLUMN hold_until TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN qualified_visit_id BIGINT REFERENCES visits(id);
ALTER TABLE referrals ADD COLUMN qualified_invoice_id BIGINT REFERENCES invoices(id);
CREATE INDEX rewards_held ON rewards (tenant_id, hold_until) WHERE status = 'held';
