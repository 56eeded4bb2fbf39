-- custody control plane: initial schema.
--
-- Portable SQL: this file runs unchanged on SQLite and PostgreSQL.
--   ids         TEXT (UUIDs made by the application)
--   timestamps  BIGINT microseconds since the Unix epoch, UTC; NULL where a time is optional
--   bytes       BYTEA: PostgreSQL's binary type. SQLite gives the name NUMERIC affinity, which keeps
--               BLOB values as they are, and the store always binds []byte, so contract bodies,
--               bundles, PEM keys, token hashes and remote state round-trip byte for byte on both.
--   booleans    BOOLEAN (PostgreSQL boolean; SQLite stores 0/1)
-- Names sort in Go, not in SQL, because the two databases collate text differently.

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT orgs_name_key UNIQUE (name)
);

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT projects_org_name_key UNIQUE (org_id, name)
);

CREATE TABLE workflows (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id),
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- the number of the latest contract revision (0: none yet); incremented under the row's lock,
    -- so concurrent AddContractRevision calls get distinct numbers
    latest_revision BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    CONSTRAINT workflows_project_name_key UNIQUE (project_id, name)
);

CREATE TABLE contract_revisions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    revision    BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    digest      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT contract_revisions_pkey PRIMARY KEY (workflow_id, revision)
);

CREATE TABLE public_keys (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    pem         BYTEA NOT NULL,
    hint        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT public_keys_workflow_hint_key UNIQUE (workflow_id, hint)
);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        BYTEA NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    project_id  TEXT REFERENCES projects (id),
    workflow_id TEXT REFERENCES workflows (id),
    admin       BOOLEAN NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT,
    created_at  BIGINT NOT NULL,
    CONSTRAINT tokens_hash_key UNIQUE (hash)
);
CREATE INDEX tokens_org_idx ON tokens (org_id, created_at);

CREATE TABLE runs (
    id                  TEXT PRIMARY KEY,
    workflow_id         TEXT NOT NULL REFERENCES workflows (id),
    contract_revision   BIGINT NOT NULL,
    state               TEXT NOT NULL,
    reason              TEXT NOT NULL DEFAULT '',
    runner_type         TEXT NOT NULL DEFAULT '',
    runner_url          TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT,
    finished_at         BIGINT,
    attestation_digest  TEXT NOT NULL DEFAULT '',
    remote_state        BYTEA,
    remote_state_digest TEXT NOT NULL DEFAULT '',
    CONSTRAINT runs_state_check CHECK (state IN ('initialized', 'succeeded', 'failed', 'cancelled', 'expired')),
    CONSTRAINT runs_revision_fkey FOREIGN KEY (workflow_id, contract_revision)
        REFERENCES contract_revisions (workflow_id, revision)
);
CREATE INDEX runs_workflow_idx ON runs (workflow_id, created_at);
CREATE INDEX runs_created_idx ON runs (created_at);
CREATE INDEX runs_state_expires_idx ON runs (state, expires_at);

CREATE TABLE attestations (
    digest      TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (id),
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    bundle      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT attestations_run_key UNIQUE (run_id)
);
CREATE INDEX attestations_workflow_idx ON attestations (workflow_id, created_at);
CREATE INDEX attestations_created_idx ON attestations (created_at);

CREATE TABLE attestation_materials (
    attestation_digest TEXT NOT NULL REFERENCES attestations (digest),
    digest             TEXT NOT NULL,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL DEFAULT '',
    CONSTRAINT attestation_materials_pkey PRIMARY KEY (attestation_digest, digest, name)
);
CREATE INDEX attestation_materials_digest_idx ON attestation_materials (digest);
