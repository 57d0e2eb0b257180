-- Signet schema v1, for SQLite and PostgreSQL (BLOB becomes BYTEA there). Times are Unix seconds, flags are 0 or 1. No semicolons in comments: statements are split on them.
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT,
  roles TEXT NOT NULL,
  password_hash TEXT,
  must_change_password BIGINT NOT NULL DEFAULT 0,
  totp_secret BLOB,
  totp_confirmed BIGINT NOT NULL DEFAULT 0,
  totp_failures BIGINT NOT NULL DEFAULT 0,
  totp_locked_until BIGINT NOT NULL DEFAULT 0,
  login_failures BIGINT NOT NULL DEFAULT 0,
  login_locked_until BIGINT NOT NULL DEFAULT 0,
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE totp_used (user_id TEXT NOT NULL REFERENCES users(id), step BIGINT NOT NULL, used_at BIGINT NOT NULL, PRIMARY KEY (user_id, step));
CREATE TABLE recovery_codes (user_id TEXT NOT NULL REFERENCES users(id), code_hash TEXT NOT NULL, used_at BIGINT, PRIMARY KEY (user_id, code_hash));
CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), csrf TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, revoked BIGINT NOT NULL DEFAULT 0);
CREATE TABLE keys (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  owner_id TEXT REFERENCES users(id),
  label TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  encrypted_key BLOB NOT NULL,
  chain_pem TEXT NOT NULL,
  allowed_roles TEXT NOT NULL DEFAULT '',
  allowed_doc_types TEXT NOT NULL DEFAULT '*',
  allowed_services TEXT NOT NULL DEFAULT '',
  failures BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id),
  title TEXT NOT NULL,
  number TEXT NOT NULL DEFAULT '',
  doc_date TEXT NOT NULL DEFAULT '',
  doc_type TEXT NOT NULL DEFAULT '',
  current_version BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX documents_owner ON documents(owner_id);
CREATE TABLE document_versions (
  document_id TEXT NOT NULL REFERENCES documents(id),
  version BIGINT NOT NULL,
  kind TEXT NOT NULL,
  blob_sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  media_type TEXT NOT NULL,
  filename TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (document_id, version)
);
CREATE TABLE signatures (
  id TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES documents(id),
  version BIGINT NOT NULL,
  key_id TEXT NOT NULL REFERENCES keys(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  format TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_seals (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, hash TEXT NOT NULL, signature BLOB NOT NULL, key_id TEXT NOT NULL)
