-- keyarc store, version 6: roles bound to a key, not to a name; requests and certificates bound to their
-- requester; four eyes; a recovery agent's card evidence. Portable SQL (H2 and PostgreSQL).
--
-- An identity is written as a "principal": key:<SHA-256 of the SubjectPublicKeyInfo> for a certificate
-- holder, secret:<reference> for a one-time secret, local-operator for the CA host's operator. Several
-- principals are written space-separated; dn:<SHA-256 of the canonical DN> names a subject (a label).

-- Roles: the holder is key:<hex> (whoever signs with a valid certificate of this CA for that public key and
-- that subject) or, for rows migrated from version 1, cert:<serial> (that one certificate). The subject is
-- a label, checked against the certificate, never the identity.
ALTER TABLE role_member ADD COLUMN holder VARCHAR(80);
ALTER TABLE role_member ADD COLUMN cert_serial VARCHAR(48);
-- a role granted by name before version 6 goes to the subject's oldest issued certificate (the one its
-- holder enrolled first; a later one of the same name may be a copy made by somebody else)
UPDATE role_member SET cert_serial = (SELECT c.serial FROM certificate c WHERE c.subject = role_member.subject
    AND c.status = 'ISSUED' ORDER BY c.issued_at, c.serial FETCH FIRST 1 ROWS ONLY);

-- A role that waits for the first certificate issued from a one-time secret (ca init --admin): bound then to
-- that certificate's key, in the issuing transaction.
CREATE TABLE role_pending (
  secret_ref  VARCHAR(64)   NOT NULL,
  role        VARCHAR(32)   NOT NULL,
  subject     VARCHAR(1024) NOT NULL,
  granted_by  VARCHAR(1024) NOT NULL,
  granted_at  BIGINT        NOT NULL,
  CONSTRAINT role_pending_pk PRIMARY KEY (secret_ref, role)
);
-- the administrator of ca init --admin who has not enrolled yet: the role now waits on the init secret
INSERT INTO role_pending (secret_ref, role, subject, granted_by, granted_at)
  SELECT s.reference, r.role, r.subject, r.granted_by, r.granted_at FROM role_member r
    JOIN enrollment_secret s ON s.subject = r.subject
    WHERE r.cert_serial IS NULL AND r.role = 'ADMINISTRATOR' AND s.created_by = 'local-operator'
      AND s.used_at IS NULL;
-- any other role granted to a name nobody holds a certificate for grants nothing: grant it again by serial
DELETE FROM role_member WHERE cert_serial IS NULL;
UPDATE role_member SET holder = 'cert:' || cert_serial;
ALTER TABLE role_member DROP CONSTRAINT role_member_pk;
ALTER TABLE role_member ALTER COLUMN holder SET NOT NULL;
ALTER TABLE role_member ALTER COLUMN cert_serial SET NOT NULL;
ALTER TABLE role_member ADD CONSTRAINT role_member_pk PRIMARY KEY (holder, role);
CREATE INDEX role_member_subject ON role_member (subject);

-- Who made a one-time secret, as principals (its creator's key and name): a manager who made the secret a
-- request used is that request's requester for four eyes. NULL for secrets made before version 6.
ALTER TABLE enrollment_secret ADD COLUMN creator VARCHAR(512);

-- Certificates: the principal that started the transaction (only it may confirm, reject or poll), and the
-- origin of the requester (who vouched for it: the creator of the secret at the root of its enrollments).
-- NULL for certificates issued before version 6: certConf cannot touch them.
ALTER TABLE certificate ADD COLUMN requester VARCHAR(128);
ALTER TABLE certificate ADD COLUMN origin VARCHAR(512);

-- Held requests: the requester's principal, its origin, every principal that may not approve it (four eyes),
-- the approver's principal, and the recovery agent's card evidence (DER, docs/recovery.md).
ALTER TABLE cert_request ADD COLUMN requester_id VARCHAR(128);
ALTER TABLE cert_request ADD COLUMN origin VARCHAR(512);
ALTER TABLE cert_request ADD COLUMN parties VARCHAR(2048);
ALTER TABLE cert_request ADD COLUMN decided_by_id VARCHAR(128);
ALTER TABLE cert_request ADD COLUMN card_evidence BYTEA;
-- requests of one-time secrets and of the local operator: the requester string is already the principal
UPDATE cert_request SET requester_id = requester WHERE requester LIKE 'secret:%' OR requester = 'local-operator';
