-- The PAdES level a key signs at: B-T (time-stamped), B-LT (plus the CA's validation data in the DSS) or B-LTA (plus a document timestamp). No semicolons in comments.
ALTER TABLE keys ADD COLUMN signature_level TEXT NOT NULL DEFAULT 'B-T'
;
-- Leases for scheduled jobs: the node whose UPDATE takes a lease runs the job (once per cluster). No semicolons in comments.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until BIGINT NOT NULL
)
