-- The CA certificate's chain above it (issue 17, ca init --external-parent): the certificates of the parent CAs,
-- the issuer first and the root last, kept at 'ca import-cert --chain', served with the CA certificate and put
-- into recovered PKCS#12 files. Empty for a self-signed root.
CREATE TABLE ca_chain (
  position  INT    PRIMARY KEY,
  der       BYTEA  NOT NULL
);
