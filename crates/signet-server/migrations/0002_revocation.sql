-- Certificates issued by the organisation CA, for OCSP and CRLs. No semicolons in comments.
CREATE TABLE certificates (
  serial_hex TEXT PRIMARY KEY,
  key_id TEXT,
  subject TEXT NOT NULL,
  not_after BIGINT NOT NULL,
  issued_at BIGINT NOT NULL,
  revoked_at BIGINT,
  reason BIGINT
);
CREATE INDEX certificates_key ON certificates(key_id)
