package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret; how many MACs
 * made with it failed, and the CMP transaction it was used in (null while unused).
 */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, int failures, String usedTransaction) {

  /** A row with no failed MAC and no transaction yet. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, 0, null);
  }

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
