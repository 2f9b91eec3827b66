-- Closing the loop with the customer and the friend.
--
-- Marketing consent of a customer: what the scheduler sends on PUT
-- /customers, or what the friend ticked on the landing form when the
-- customer is first mirrored, or an opt-out from a link routeloop showed.
-- consent_marketing_at is when the latest of those statements was made.
ALTER TABLE customers ADD COLUMN consent_marketing BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN consent_marketing_at DATETIME NULL;

-- The friend's own consents on the landing form (same-day service next to a
-- neighbour; marketing), carried to the customer when it is mirrored.
ALTER TABLE referrals ADD COLUMN consent_same_day BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE referrals ADD COLUMN consent_marketing BOOLEAN NOT NULL DEFAULT FALSE;
-- Where the friend's location came from ('' unknown, 'given', 'geocoded',
-- 'dispatcher') and, while it is unknown, why.
ALTER TABLE referrals ADD COLUMN location_source TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN location_note TEXT NOT NULL DEFAULT '';
-- utm_* parameters of the link visit (JSON object, '' when none).
ALTER TABLE referrals ADD COLUMN utm TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_clicks ADD COLUMN utm TEXT NOT NULL DEFAULT '';

-- The scheduler's payment page for the invoice, shown as a Pay button.
ALTER TABLE invoices ADD COLUMN pay_url TEXT NOT NULL DEFAULT '';
