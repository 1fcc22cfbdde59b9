-- Keys imported for archival whose certificates another CA issued (issue 18, 'keyarc archive import'): the
-- certificate itself is kept with the archive (this CA's certificate table holds only its own), and the archive
-- record names it by SHA-256.
ALTER TABLE archived_key ADD COLUMN external_cert BYTEA;
