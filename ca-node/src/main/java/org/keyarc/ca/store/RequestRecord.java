package org.keyarc.ca.store;

import java.time.Instant;

/** A request held for approval, and its outcome. */
public record RequestRecord(
    long id,
    String transactionId,
    long certReqId,
    String requester,
    String template,
    String subject,
    String bodyType,
    Status status,
    byte[] publicKey,
    byte[] extensions,
    Instant createdAt,
    String decidedBy,
    Instant decidedAt,
    String reason,
    String certSerial) {

  public enum Status { PENDING, APPROVED, DENIED }

  @Override
  public String toString() {
    return "RequestRecord[id=" + id + ", subject=" + subject + ", template=" + template + ", status=" + status + "]";
  }
}
