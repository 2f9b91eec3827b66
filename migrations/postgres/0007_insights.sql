-- Indexes for the owner's KPIs (internal/insight/kpis.go): the lines of the
-- period's invoices are read through an index that holds every column the
-- KPIs need, and a friend's first converted referral is one index probe.

CREATE INDEX invoice_lines_kind ON invoice_lines (invoice_id, kind) INCLUDE (amount_cents, visit_id, source_key);
CREATE INDEX referrals_referee_converted ON referrals (tenant_id, referee_customer_id, id) WHERE status = 'converted';
