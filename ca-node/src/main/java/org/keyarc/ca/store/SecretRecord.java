package org.keyarc.ca.store;

import java.time.Instant;

/** A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret. */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
