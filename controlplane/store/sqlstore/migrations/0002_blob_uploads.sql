-- Who uploaded which blob, and which blobs an attestation claims (issue 6).
--
-- The CAS keeps one copy of a blob; blob_uploads keeps one row per digest and uploader scope: the org,
-- and the project and workflow of a scoped credential ('' when it is not scoped to one: '' rather than
-- NULL, so the primary key makes a second upload from the same scope a no-op on both databases).
CREATE TABLE blob_uploads (
    digest      TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    project_id  TEXT NOT NULL DEFAULT '',
    workflow_id TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    CONSTRAINT blob_uploads_pkey PRIMARY KEY (digest, org_id, project_id, workflow_id)
);

-- A mention of a digest opens the blob to the attestation's readers only when the push claimed it
-- (see docs/api.md). Mentions stored before this migration were never checked: they claim nothing.
ALTER TABLE attestation_materials ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT FALSE;
