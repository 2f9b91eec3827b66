-- Staff sign-in: people (not API keys) who open the pages, and their
-- sessions. Sessions live in the database so every replica knows them and
-- signing out anywhere signs out everywhere.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email          TEXT NOT NULL CHECK (email = lower(email) AND email <> ''),
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'crew')),
    -- A crew login may be the crew member it acts as on /crew/today.
    crew_member_id BIGINT REFERENCES crew_members(id),
    created_at     DATETIME NOT NULL,
    disabled_at    DATETIME,
    UNIQUE (tenant_id, email)
);
-- Sign-in looks an e-mail up across tenants.
CREATE INDEX users_email ON users (email);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a copy of the table opens no session.
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
