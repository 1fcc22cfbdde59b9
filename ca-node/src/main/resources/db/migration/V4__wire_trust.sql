-- keyarc store, version 4: wire trust (MAC failures, replay cache, the CMP responder key).

-- Failed MACs per one-time secret: at limits.secretMaxFailures (5) the reference is locked and refused
-- before any key derivation. used_transaction is the CMP transaction the secret was used in: only that
-- transaction's certConf and pollReq may still use it.
ALTER TABLE enrollment_secret ADD COLUMN secret_failures INT DEFAULT 0 NOT NULL;
ALTER TABLE enrollment_secret ADD COLUMN used_transaction VARCHAR(64);

-- Every protected request's (transactionID, senderNonce), hex, for as long as its messageTime is within
-- the skew window (the node's timer deletes older rows): a replay hits the primary key, across restarts
-- and across nodes sharing this database.
CREATE TABLE cmp_nonce (
  transaction_id  VARCHAR(64)  NOT NULL,
  sender_nonce    VARCHAR(64)  NOT NULL,
  message_time    BIGINT       NOT NULL,
  seen_at         BIGINT       NOT NULL,
  CONSTRAINT cmp_nonce_pk PRIMARY KEY (transaction_id, sender_nonce)
);
CREATE INDEX cmp_nonce_time ON cmp_nonce (message_time);

-- ca_key.kind gains RESPONDER: the key that signs CMP answers, with its short-lived certificate.
