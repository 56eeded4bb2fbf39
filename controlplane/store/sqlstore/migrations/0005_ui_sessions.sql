-- Web UI sessions (issue 10): a browser signs in once with a custody token and gets a random session
-- id in a cookie. The store keeps the id's sha256 (a copy of the database opens no session), the token
-- the session acts as (by ID: the token's secret is never kept) and when the session ends. Every
-- replica reads the same rows, and signing out deletes the row.
CREATE TABLE ui_sessions (
    id_hash    BYTEA PRIMARY KEY,
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expires_idx ON ui_sessions (expires_at);
