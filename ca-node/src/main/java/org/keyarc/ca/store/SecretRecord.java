package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret. {@code
 * createdBy} is the creator's label (audit actor), {@code creator} its principals (space-separated; null for
 * secrets made before store version 6).
 */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, String creator) {

  /** A row without the creator's principals. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null);
  }

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
