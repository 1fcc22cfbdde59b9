-- Templates as runtime objects (issue 17): the definition of each template (its configuration form as JSON), a
-- version bumped on every change, and whether it is offered. Seeded on a node's first start from the built-in
-- templates and the configuration; then administered with 'keyarc template ...', every change audited.
CREATE TABLE template_def (
  name        VARCHAR(64)    PRIMARY KEY,
  version     INT            NOT NULL,
  enabled     BOOLEAN        NOT NULL,
  definition  VARCHAR(16000) NOT NULL,
  updated_at  BIGINT         NOT NULL,
  updated_by  VARCHAR(1024)  NOT NULL
);
