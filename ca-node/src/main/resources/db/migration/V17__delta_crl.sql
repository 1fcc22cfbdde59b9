-- Delta CRLs (issue 17, timers.deltaCrlMinutes): a delta CRL lists what was revoked since the complete CRL it
-- names (its base_number); complete CRLs have none. Both kinds share one sequence of CRL numbers (RFC 5280 5.2.4).
ALTER TABLE crl ADD COLUMN base_number BIGINT;
