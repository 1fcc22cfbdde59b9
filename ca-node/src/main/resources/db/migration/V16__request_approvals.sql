-- The approvals a held request has had (issue 17): a template may need more than one manager's approval
-- (approvals: N). Each manager approves once (one row per request and approver principal); the certificate is
-- issued with the N-th, in the same unit of work as its row.
CREATE TABLE request_approval (
  request_id   BIGINT         NOT NULL,
  approver     VARCHAR(1024)  NOT NULL,
  actor        VARCHAR(1024)  NOT NULL,
  approved_at  BIGINT         NOT NULL,
  PRIMARY KEY (request_id, approver)
);
