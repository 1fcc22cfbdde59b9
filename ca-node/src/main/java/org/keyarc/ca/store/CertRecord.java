package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;

/**
 * One certificate row. {@code der} is the encoded certificate (public data). {@code requester} is the principal
 * that started the transaction ({@code key:<hex>}, {@code secret:<ref>}, {@code local-operator}): only it may
 * confirm, reject or poll; {@code origin} the principals that vouched for it (the creator of the secret at the
 * root of its enrollments). Both are null for certificates issued before store version 6.
 */
public record CertRecord(
    String issuer,
    BigInteger serial,
    String subject,
    String template,
    Instant notBefore,
    Instant notAfter,
    Status status,
    Instant confirmDeadline,
    Instant revokedAt,
    Integer revocationReason,
    Long requestId,
    String sha256,
    Instant issuedAt,
    byte[] der,
    String transactionId,
    String requester,
    String origin) {

  /** A row without requester and origin (what store version 5 knew). */
  public CertRecord(String issuer, BigInteger serial, String subject, String template, Instant notBefore,
      Instant notAfter, Status status, Instant confirmDeadline, Instant revokedAt, Integer revocationReason,
      Long requestId, String sha256, Instant issuedAt, byte[] der, String transactionId) {
    this(issuer, serial, subject, template, notBefore, notAfter, status, confirmDeadline, revokedAt,
        revocationReason, requestId, sha256, issuedAt, der, transactionId, null, null);
  }

  /** Where a certificate is in its life. */
  public enum Status {
    /** Issued, but the client has not yet sent certConf; revoked if it never does. */
    UNCONFIRMED,
    ISSUED,
    REVOKED
  }

  @Override
  public String toString() {
    return "CertRecord[serial=" + serial.toString(16) + ", subject=" + subject + ", status=" + status + "]";
  }
}
