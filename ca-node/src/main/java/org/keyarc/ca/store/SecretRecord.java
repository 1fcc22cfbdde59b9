package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret.
 * {@code subjectAltNames} is the DER GeneralNames bound to it (V5), null for none; {@code failures} is how many
 * MACs made with it failed, {@code usedTransaction} the CMP transaction it was used in (null while unused) (V4).
 */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, byte[] subjectAltNames, int failures,
    String usedTransaction) {

  /** A row that binds no subjectAltNames, with no failed MAC and no transaction yet. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null, 0, null);
  }

  /** A row binding {@code subjectAltNames}, with no failed MAC and no transaction yet. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, byte[] subjectAltNames) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, subjectAltNames, 0,
        null);
  }

  /** A row that binds no subjectAltNames, with its failed MACs and the transaction it was used in. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, int failures, String usedTransaction) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null, failures,
        usedTransaction);
  }

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
