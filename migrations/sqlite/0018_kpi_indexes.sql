-- Indexes for the owner's KPIs over long periods (internal/insight/kpis.go):
-- the reward, credit and add-on lines (a small share of all lines) are read
-- from an index of their own instead of a scan of every line, and each
-- invoice's lines are one index probe holding every column the KPIs read
-- (SQLite has no INCLUDE: the columns are part of the key), replacing
-- invoice_lines_kind.

CREATE INDEX invoice_lines_reward ON invoice_lines (tenant_id, invoice_id, kind, item_key, amount_cents)
    WHERE kind IN ('referral_reward', 'credit', 'addon');
CREATE INDEX invoice_lines_cover ON invoice_lines (invoice_id, kind, amount_cents, visit_id, item_key);
DROP INDEX invoice_lines_kind;
