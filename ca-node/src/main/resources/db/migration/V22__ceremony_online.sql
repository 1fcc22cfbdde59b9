-- Rotations and drills through the node (issue 18): the latest ceremony file an agent handed back, still
-- encrypted to the remaining agents, for the next agent to fetch; who handed it and when.
ALTER TABLE key_ceremony ADD COLUMN progress BYTEA;
ALTER TABLE key_ceremony ADD COLUMN progress_by VARCHAR(1024);
ALTER TABLE key_ceremony ADD COLUMN progress_at BIGINT;
-- counts the files handed back: an agent's file replaces only the one it fetched (no lost update)
ALTER TABLE key_ceremony ADD COLUMN progress_version INT DEFAULT 0 NOT NULL;
