-- Failed staff sign-ins, so the sign-in throttle counts across every
-- replica. The key is a SHA-256 of the e-mail and client address (no e-mail
-- or address is kept); rows older than the throttle's window are deleted as
-- new failures arrive, and a successful sign-in deletes its key's rows.
-- (On SQLite one process owns the file and counts in memory; the table
-- keeps both schemas alike.)

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash  TEXT NOT NULL,
    failed_at DATETIME NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key_hash, failed_at);
CREATE INDEX login_failures_at ON login_failures (failed_at);
