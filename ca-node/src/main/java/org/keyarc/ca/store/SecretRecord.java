package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret.
 * {@code subjectAltNames} is the DER GeneralNames bound to it (V5), null for none.
 */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, byte[] subjectAltNames) {

  /** A secret that binds no subjectAltNames. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null);
  }

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
