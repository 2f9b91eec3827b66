-- A referral made on the landing page keeps the channel its link carried
-- (?ch=): besides link, code, card, crew_pitch and name_only, the crew
-- page's QR code (crew), the invoice page (invoice), and links handed out
-- by text, e-mail or social media (sms, email, social).
ALTER TABLE referrals DROP CONSTRAINT referrals_channel_check;
ALTER TABLE referrals ADD CONSTRAINT referrals_channel_check
    CHECK (channel IN ('link', 'code', 'card', 'crew_pitch', 'name_only', 'crew', 'invoice', 'sms', 'email', 'social'));
