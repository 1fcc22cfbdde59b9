-- Exchange keys retire: their private key is destroyed in the HSM a grace period after the certificate
-- expires (ca.exchangeRetireAfterDays), so a recorded archival request cannot be opened forever.
ALTER TABLE ca_key ADD COLUMN retired_at BIGINT;
