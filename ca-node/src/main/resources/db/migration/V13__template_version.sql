-- Each certificate records the version of its template it was issued under (issue 17); null for certificates
-- issued before templates had versions.
ALTER TABLE certificate ADD COLUMN template_version INT;
