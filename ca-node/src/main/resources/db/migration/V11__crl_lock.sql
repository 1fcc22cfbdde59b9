-- One row that every CRL publication locks (SELECT ... FOR UPDATE) before it numbers the CRL and reads the
-- revocations: with several nodes on one database, publications run one after the other, so CRL numbers stay
-- unique and increasing and each CRL lists every revocation committed before it.
CREATE TABLE crl_lock (
  id INT PRIMARY KEY
);
INSERT INTO crl_lock (id) VALUES (1);
