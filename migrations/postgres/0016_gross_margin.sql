-- The program's gross margin on service revenue, in basis points (4000 =
-- 40%): what the KPIs count as the contribution of referred customers'
-- revenue before rewards, discounts and route savings.
ALTER TABLE programs ADD COLUMN gross_margin_bps INTEGER NOT NULL DEFAULT 4000;
