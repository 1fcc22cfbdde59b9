-- Indirect proof of possession (issue 15): a held request whose key proves possession by decrypting its
-- certificate (RFC 4210 encrCert) rather than by a signature. 'encrCert', or NULL for a signature.
ALTER TABLE cert_request ADD COLUMN pop VARCHAR(16);
