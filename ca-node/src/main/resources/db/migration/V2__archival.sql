-- keyarc store, version 2: key archival.

-- The recovery agents the CA encrypts archived keys to, in the order they were added.
CREATE TABLE recovery_agent (
  issuer     VARCHAR(1024) NOT NULL,
  serial     VARCHAR(48)   NOT NULL,
  subject    VARCHAR(1024) NOT NULL,
  cert       BYTEA         NOT NULL,
  added_by   VARCHAR(1024) NOT NULL,
  added_at   BIGINT        NOT NULL,
  CONSTRAINT recovery_agent_pk PRIMARY KEY (issuer, serial)
);

-- The archival policy: each key is encrypted for N agents, M of them are needed to recover it.
CREATE TABLE archive_policy (
  id         INT     PRIMARY KEY,
  agents     INT     NOT NULL,
  threshold  INT     NOT NULL
);
INSERT INTO archive_policy (id, agents, threshold) VALUES (1, 1, 1);

-- Archived keys: one per certificate, the record is the DER ArchiveRecord of docs/archive-format.md.
CREATE TABLE archived_key (
  issuer       VARCHAR(1024) NOT NULL,
  serial       VARCHAR(48)   NOT NULL,
  subject      VARCHAR(1024) NOT NULL,
  cert_sha256  VARCHAR(64)   NOT NULL,
  cert_sha1    VARCHAR(40)   NOT NULL,
  threshold    INT           NOT NULL,
  agents       INT           NOT NULL,
  created_at   BIGINT        NOT NULL,
  record       BYTEA         NOT NULL,
  CONSTRAINT archived_key_pk PRIMARY KEY (issuer, serial)
);
CREATE INDEX archived_key_subject ON archived_key (subject);
CREATE INDEX archived_key_sha256 ON archived_key (cert_sha256);
CREATE INDEX archived_key_sha1 ON archived_key (cert_sha1);
