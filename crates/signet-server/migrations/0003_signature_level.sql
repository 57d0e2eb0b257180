-- The PAdES level a key signs at: B-T (time-stamped), B-LT (plus the CA's validation data in the DSS) or B-LTA (plus a document timestamp). No semicolons in comments.
ALTER TABLE keys ADD COLUMN signature_level TEXT NOT NULL DEFAULT 'B-T'
