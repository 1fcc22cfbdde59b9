-- keyarc store, version 5: template permissions and subjectAltName policy (issue 12).

-- The subjectAltNames a one-time secret binds (DER GeneralNames: an e-mail address from
-- 'secret create --email', ...), NULL for none. Secrets made from V5 on derive their secret over the
-- template, subject and these names as well, so a changed binding no longer matches its secret.
ALTER TABLE enrollment_secret ADD COLUMN subject_alt_names BYTEA;
