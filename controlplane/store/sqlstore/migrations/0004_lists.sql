-- Lists for people (issue 10): keyset pages and an index for every filter of the runs list and the
-- digest search, so a page reads one index range in list order (created_at, then the key, newest
-- first), however deep it is and whatever the rest of the database holds.
--
-- A workflow never moves to another project, so runs, attestations and material mentions carry their
-- project and org: a list scoped to an org or a project, or filtered by one, is one range too.

-- Runs: their scope, and the branch and head commit they built (from the runner context at init, the
-- attestation at push; '' when unknown).
ALTER TABLE runs ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN project_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN git_branch TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN git_commit TEXT NOT NULL DEFAULT '';
UPDATE runs SET project_id = (SELECT w.project_id FROM workflows w WHERE w.id = runs.workflow_id);
UPDATE runs SET org_id = (SELECT p.org_id FROM projects p WHERE p.id = runs.project_id);
DROP INDEX runs_workflow_idx;
DROP INDEX runs_created_idx;
CREATE INDEX runs_org_list_idx ON runs (org_id, created_at, id);
CREATE INDEX runs_project_list_idx ON runs (project_id, created_at, id);
CREATE INDEX runs_workflow_list_idx ON runs (workflow_id, created_at, id);
CREATE INDEX runs_state_list_idx ON runs (state, created_at, id);
CREATE INDEX runs_runner_list_idx ON runs (runner_type, created_at, id);
CREATE INDEX runs_branch_list_idx ON runs (git_branch, created_at, id);

-- Attestations: their scope.
ALTER TABLE attestations ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attestations ADD COLUMN project_id TEXT NOT NULL DEFAULT '';
UPDATE attestations SET project_id = (SELECT r.project_id FROM runs r WHERE r.id = attestations.run_id),
    org_id = (SELECT r.org_id FROM runs r WHERE r.id = attestations.run_id);
DROP INDEX attestations_workflow_idx;
DROP INDEX attestations_created_idx;
CREATE INDEX attestations_org_list_idx ON attestations (org_id, created_at, digest);
CREATE INDEX attestations_project_list_idx ON attestations (project_id, created_at, digest);
CREATE INDEX attestations_workflow_list_idx ON attestations (workflow_id, created_at, digest);

-- Mentions: the scope and time of their attestation, so a digest search of an org or a project reads
-- the mentions of the digest in list order; a workflow's search reads its project's and skips the
-- rest. first: the mention of its digest with the smallest name in its attestation, the one a search
-- lists (an attestation may name a digest twice). output: the material is an output of its run, so
-- its digest is a subject of the statement (unknown, false, for mentions indexed before this
-- migration).
ALTER TABLE attestation_materials ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attestation_materials ADD COLUMN project_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attestation_materials ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE attestation_materials ADD COLUMN first BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attestation_materials ADD COLUMN output BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE attestation_materials SET
    org_id = (SELECT a.org_id FROM attestations a WHERE a.digest = attestation_materials.attestation_digest),
    project_id = (SELECT a.project_id FROM attestations a WHERE a.digest = attestation_materials.attestation_digest),
    created_at = (SELECT a.created_at FROM attestations a WHERE a.digest = attestation_materials.attestation_digest),
    first = NOT EXISTS (SELECT 1 FROM attestation_materials n WHERE n.attestation_digest = attestation_materials.attestation_digest
        AND n.digest = attestation_materials.digest AND n.name < attestation_materials.name);
DROP INDEX attestation_materials_digest_idx;
CREATE INDEX attestation_materials_org_search_idx ON attestation_materials (digest, org_id, created_at, attestation_digest);
CREATE INDEX attestation_materials_project_search_idx ON attestation_materials (digest, project_id, created_at, attestation_digest);
