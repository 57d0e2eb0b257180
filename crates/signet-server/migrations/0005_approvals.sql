-- Approvals: managers, groups, absences with deputies, document types with forms and numbering, workflows and their steps, sealed evidence of simple signatures, and the notification outbox. No semicolons in comments.
ALTER TABLE users ADD COLUMN manager_id TEXT
;
CREATE TABLE user_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL)
;
CREATE TABLE group_members (group_id TEXT NOT NULL REFERENCES user_groups(id), user_id TEXT NOT NULL REFERENCES users(id), PRIMARY KEY (group_id, user_id))
;
CREATE TABLE absences (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  deputy_id TEXT NOT NULL REFERENCES users(id),
  starts_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  cancelled BIGINT NOT NULL DEFAULT 0
)
;
CREATE INDEX absences_user ON absences(user_id)
;
CREATE TABLE doc_types (
  id TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  built_in BIGINT NOT NULL DEFAULT 0,
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
;
CREATE TABLE doc_numbers (doc_type TEXT NOT NULL, year BIGINT NOT NULL, last BIGINT NOT NULL, PRIMARY KEY (doc_type, year))
;
ALTER TABLE documents ADD COLUMN form TEXT NOT NULL DEFAULT ''
;
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES documents(id),
  doc_type TEXT NOT NULL,
  author_id TEXT NOT NULL REFERENCES users(id),
  state TEXT NOT NULL,
  round BIGINT NOT NULL,
  stage BIGINT NOT NULL,
  route TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
)
;
CREATE INDEX workflows_document ON workflows(document_id)
;
CREATE INDEX workflows_author ON workflows(author_id)
;
CREATE TABLE workflow_steps (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  round BIGINT NOT NULL,
  stage BIGINT NOT NULL,
  name TEXT NOT NULL,
  assignee_kind TEXT NOT NULL,
  assignee TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id TEXT,
  state TEXT NOT NULL,
  waiting_since BIGINT,
  due_hours BIGINT,
  due_at BIGINT,
  reminded_at BIGINT,
  claimed_by TEXT,
  claimed_until BIGINT NOT NULL DEFAULT 0,
  acted_by TEXT,
  acting_for TEXT,
  acted_at BIGINT,
  decision TEXT,
  comment TEXT NOT NULL DEFAULT '',
  evidence_id TEXT,
  version BIGINT
)
;
CREATE INDEX workflow_steps_workflow ON workflow_steps(workflow_id)
;
CREATE INDEX workflow_steps_state ON workflow_steps(state)
;
CREATE TABLE evidence (
  id TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES documents(id),
  workflow_id TEXT,
  step_id TEXT,
  signer_id TEXT NOT NULL,
  blob_sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL
)
;
CREATE INDEX evidence_document ON evidence(document_id)
;
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret BLOB NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0
)
;
CREATE TABLE events (id TEXT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at BIGINT NOT NULL)
;
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES events(id),
  channel TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  claimed_until BIGINT NOT NULL DEFAULT 0,
  last_status BIGINT,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at BIGINT,
  created_at BIGINT NOT NULL
)
;
CREATE INDEX deliveries_due ON deliveries(state, next_at)
