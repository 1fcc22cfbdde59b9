-- An approved certificate for a key that proves possession by decrypting it (encrCert) waited UNCONFIRMED with no
-- deadline until its first delivery; one never collected stayed so for ever. It now gets a collection deadline at
-- approval (timers.secretValidityDays, 14 days by default); rows from before get 14 days from their issue.
UPDATE certificate SET confirm_deadline = issued_at + 1209600000
  WHERE status = 'UNCONFIRMED' AND confirm_deadline IS NULL;
