-- The recovery-agent list and the M-of-N policy, sealed with the CA token's secret-MAC key whenever an
-- administrator changes them and checked on every archival: a database writer cannot swap them unnoticed.
CREATE TABLE archive_config_seal (
  id         INT          PRIMARY KEY,
  mac        BYTEA        NOT NULL,
  sealed_at  BIGINT       NOT NULL,
  sealed_by  VARCHAR(1024) NOT NULL
);
