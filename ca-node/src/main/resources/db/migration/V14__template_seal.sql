-- The seal over the template definitions (issue 17): a CMAC made in the HSM with the CA token's secret-MAC key
-- over every template's name, version, state and definition, renewed in the same unit of work as every change
-- the CA makes. A database writer who loosens a template breaks it and cannot make a new one without the token.
CREATE TABLE template_seal (
  id          INT           PRIMARY KEY,
  mac         VARCHAR(64)   NOT NULL,
  sealed_at   BIGINT        NOT NULL,
  sealed_by   VARCHAR(1024) NOT NULL
);
