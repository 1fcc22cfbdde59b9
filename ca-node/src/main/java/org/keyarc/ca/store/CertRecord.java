package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;

/** One certificate row. {@code der} is the encoded certificate (public data). */
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
    String transactionId) {

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
