-- Outbox workers lease whole endpoints, so one endpoint's events are sent by
-- one worker at a time, in order; the lease is renewed while sending.
ALTER TABLE webhook_endpoints ADD COLUMN locked_by TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN locked_until TIMESTAMPTZ;

-- An endpoint's pending deliveries in order.
CREATE INDEX webhook_deliveries_endpoint_pending ON webhook_deliveries (endpoint_id, id) WHERE status = 'pending';
