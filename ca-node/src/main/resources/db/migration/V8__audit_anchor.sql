-- Checkpoints chain: a version-2 checkpoint's signature covers the previous checkpoint too (its sequence
-- number and the SHA-256 of its signature), so dropping checkpoints (a rollback) breaks the chain of signatures.
ALTER TABLE audit_checkpoint ADD COLUMN version INTEGER DEFAULT 1 NOT NULL;
ALTER TABLE audit_checkpoint ADD COLUMN prev_seq BIGINT DEFAULT 0 NOT NULL;
