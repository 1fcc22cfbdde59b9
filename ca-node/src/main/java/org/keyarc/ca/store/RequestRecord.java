package org.keyarc.ca.store;

import java.time.Instant;

/**
 * A request held for approval, and its outcome. {@code requester} is the requester's label (the actor in the
 * audit), {@code requesterId} its principal, {@code origin} who vouched for it, {@code parties} every principal
 * that may not approve it (four eyes; space-separated), {@code decidedById} the decider's principal and {@code
 * cardEvidence} the recovery agent's card evidence (DER, may be null). The five are null for requests stored
 * before store version 6 (a legacy requester of a secret or the local operator has its principal set). {@code pop}
 * is null when the key proved possession by a signature, {@link #POP_ENCR_CERT} when it proves it by decrypting its
 * certificate (store version 23).
 */
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
    String certSerial,
    String requesterId,
    String origin,
    String parties,
    String decidedById,
    byte[] cardEvidence,
    String pop) {

  /** {@link #pop} of a request whose key proves possession by decrypting its certificate (RFC 4210 encrCert). */
  public static final String POP_ENCR_CERT = "encrCert";

  /** A row without the version 23 field (proof of possession by signature). */
  public RequestRecord(long id, String transactionId, long certReqId, String requester, String template,
      String subject, String bodyType, Status status, byte[] publicKey, byte[] extensions, Instant createdAt,
      String decidedBy, Instant decidedAt, String reason, String certSerial, String requesterId, String origin,
      String parties, String decidedById, byte[] cardEvidence) {
    this(id, transactionId, certReqId, requester, template, subject, bodyType, status, publicKey, extensions,
        createdAt, decidedBy, decidedAt, reason, certSerial, requesterId, origin, parties, decidedById, cardEvidence,
        null);
  }

  /** True when the requester proves possession of the key by decrypting the certificate, after approval. */
  public boolean indirectPop() {
    return POP_ENCR_CERT.equals(pop);
  }

  /** A row without the version 6 fields. */
  public RequestRecord(long id, String transactionId, long certReqId, String requester, String template,
      String subject, String bodyType, Status status, byte[] publicKey, byte[] extensions, Instant createdAt,
      String decidedBy, Instant decidedAt, String reason, String certSerial) {
    this(id, transactionId, certReqId, requester, template, subject, bodyType, status, publicKey, extensions,
        createdAt, decidedBy, decidedAt, reason, certSerial, null, null, null, null, null, null);
  }

  public enum Status { PENDING, APPROVED, DENIED }

  @Override
  public String toString() {
    return "RequestRecord[id=" + id + ", subject=" + subject + ", template=" + template + ", status=" + status + "]";
  }
}
