package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A one-time enrollment secret's row: the reference, what it allows, and the hash of the secret. {@code
 * createdBy} is the creator's label (audit actor), {@code creator} its principals (space-separated; null for
 * secrets made before store version 6). {@code subjectAltNames} is the DER GeneralNames bound to it (V5), null
 * for none; {@code failures} is how many MACs made with it failed, {@code usedTransaction} the CMP transaction it
 * was used in (null while unused) (V4).
 */
public record SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
    String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, byte[] subjectAltNames, int failures,
    String usedTransaction, String creator) {

  /** A row that binds no subjectAltNames, with no failed MAC, no transaction yet and no creator's principals. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null, 0, null, null);
  }

  /** A row without subjectAltNames, with no failed MAC and no transaction yet, made by {@code creator}. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, String creator) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null, 0, null,
        creator);
  }

  /** A row binding {@code subjectAltNames}, with no failed MAC, no transaction yet and no creator's principals. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, byte[] subjectAltNames) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, subjectAltNames, 0,
        null, null);
  }

  /** A row that binds no subjectAltNames, with its failed MACs and the transaction it was used in. */
  public SecretRecord(String reference, byte[] nonce, String secretHash, String template, String subject,
      String createdBy, Instant createdAt, Instant expiresAt, Instant usedAt, int failures, String usedTransaction) {
    this(reference, nonce, secretHash, template, subject, createdBy, createdAt, expiresAt, usedAt, null, failures,
        usedTransaction, null);
  }

  @Override
  public String toString() {
    return "SecretRecord[reference=" + reference + ", template=" + template + ", subject=" + subject + "]";
  }
}
