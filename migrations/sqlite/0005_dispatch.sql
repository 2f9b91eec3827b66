-- Route-aware booking: travel model and working day in the program, and the
-- drive a booked linked visit saved against a separate trip.
ALTER TABLE programs ADD COLUMN road_factor REAL NOT NULL DEFAULT 1.3;
ALTER TABLE programs ADD COLUMN speed_kmh REAL NOT NULL DEFAULT 30;
ALTER TABLE programs ADD COLUMN workday_minutes INTEGER NOT NULL DEFAULT 480;
ALTER TABLE programs ADD COLUMN default_visit_minutes INTEGER NOT NULL DEFAULT 30;
ALTER TABLE programs ADD COLUMN cost_per_km_cents INTEGER NOT NULL DEFAULT 60;
ALTER TABLE programs ADD COLUMN labour_cents_per_minute INTEGER NOT NULL DEFAULT 50;

ALTER TABLE visits ADD COLUMN saved_metres INTEGER;
ALTER TABLE visits ADD COLUMN saved_minutes REAL;
CREATE INDEX visits_booked ON visits (tenant_id, source, service_date);
