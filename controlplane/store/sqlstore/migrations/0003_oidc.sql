-- CI workload identities (issue 8): trust policies, the credentials exchanged for ID tokens, and the
-- ID tokens exchanged.

-- A workflow's OIDC trust policies: ID tokens of issuer whose claims match claims (a JSON object of
-- claim name to value or path.Match pattern) may be exchanged for a credential of the workflow.
CREATE TABLE trust_policies (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    issuer      TEXT NOT NULL,
    claims      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX trust_policies_workflow_idx ON trust_policies (workflow_id, created_at);

-- A token exchanged for an ID token is a workload credential: it keeps the token's verified issuer
-- and claims (its JSON payload, byte for byte). Other tokens have '' and NULL.
ALTER TABLE tokens ADD COLUMN workload_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN workload_claims BYTEA;

-- Each ID token is exchanged once, on every replica: its issuer and jti are kept until it expires.
CREATE TABLE id_token_uses (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT id_token_uses_pkey PRIMARY KEY (issuer, jti)
);
CREATE INDEX id_token_uses_expires_idx ON id_token_uses (expires_at);
