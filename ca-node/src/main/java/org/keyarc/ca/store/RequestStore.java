package org.keyarc.ca.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Requests held for a certificate manager's approval. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface RequestStore {
  /**
   * A request to hold: who sent it ({@code requester} label, {@code requesterId} principal), its origin, the
   * principals that may not approve it ({@code parties}), the card evidence (DER, may be null) and how the key
   * proves possession ({@code pop}: null for a signature, {@link RequestRecord#POP_ENCR_CERT}).
   */
  record Held(String transactionId, long certReqId, String requester, String requesterId, String origin,
      String parties, String template, String subject, String bodyType, byte[] publicKey, byte[] extensions,
      byte[] cardEvidence, Instant at, String pop) {
    /** A request whose key proved possession by its signature. */
    public Held(String transactionId, long certReqId, String requester, String requesterId, String origin,
        String parties, String template, String subject, String bodyType, byte[] publicKey, byte[] extensions,
        byte[] cardEvidence, Instant at) {
      this(transactionId, certReqId, requester, requesterId, origin, parties, template, subject, bodyType, publicKey,
          extensions, cardEvidence, at, null);
    }
  }

  /** Inserts a PENDING request and returns its id. */
  long insertPending(Held h) throws StoreException;

  /** Inserts a PENDING request without the version 6 fields and returns its id. */
  default long insertPending(String transactionId, long certReqId, String requester,
      String template, String subject, String bodyType, byte[] publicKey, byte[] extensions, Instant at) throws StoreException {
    return insertPending(new Held(transactionId, certReqId, requester, null, null, null, template, subject, bodyType,
        publicKey, extensions, null, at));
  }

  Optional<RequestRecord> find(long id) throws StoreException;

  /** The request of a CMP transaction (what a pollReq refers to). */
  Optional<RequestRecord> findByTransaction(String transactionId, long certReqId) throws StoreException;

  /** Oldest first; {@code status} null lists all. */
  List<RequestRecord> list(RequestRecord.Status status, int limit) throws StoreException;

  /** One manager's approval of a held request: its principal, its label, when. */
  record Approval(String approver, String actor, Instant at) {}

  /** Records {@code approval} of request {@code id}. */
  void addApproval(long id, Approval approval) throws StoreException;

  /** The approvals request {@code id} has had, oldest first. */
  List<Approval> approvals(long id) throws StoreException;

  /** PENDING → APPROVED or DENIED; false when the request was not pending (decided meanwhile). */
  boolean decide(long id, RequestRecord.Status status, String by, String byId, String reason,
      String certSerial, Instant at) throws StoreException;

  /** {@link #decide(long, RequestRecord.Status, String, String, String, String, Instant)} without the decider's principal. */
  default boolean decide(long id, RequestRecord.Status status, String by, String reason,
      String certSerial, Instant at) throws StoreException {
    return decide(id, status, by, null, reason, certSerial, at);
  }
}
