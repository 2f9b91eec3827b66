-- A crew key may be bound to one crew: it then sees only that crew, its
-- visits, the customers with a visit on its routes and its day. Unbound keys
-- (crew_id NULL) keep the tenant-wide view of their role.
ALTER TABLE api_keys ADD COLUMN crew_id BIGINT REFERENCES crews(id);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_crew_role CHECK (crew_id IS NULL OR role = 'crew');
