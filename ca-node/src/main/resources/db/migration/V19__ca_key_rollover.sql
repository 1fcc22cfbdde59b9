-- CA key rollover (issue 17, 'keyarc ca rollover'): the CA signs with a new key while the old one, until its
-- certificate ends, still publishes the CRLs and OCSP answers for what it issued. CA keys are numbered by
-- generation: the CA rows of ca_key in id order, the first 0. Each certificate records the generation that
-- signed it, each CRL the generation that signed it (one sequence of CRL numbers for all of them).
ALTER TABLE certificate ADD COLUMN ca_generation INTEGER DEFAULT 0 NOT NULL;
ALTER TABLE crl ADD COLUMN ca_generation INTEGER DEFAULT 0 NOT NULL;
-- kind CROSS rows of ca_key: the rollover's cross-certificates (RFC 4210 4.4: NewWithOld, OldWithNew), no key
