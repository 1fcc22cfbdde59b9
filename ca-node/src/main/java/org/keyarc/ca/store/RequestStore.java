package org.keyarc.ca.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Requests held for a certificate manager's approval. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface RequestStore {
  /** Inserts a PENDING request and returns its id. */
  long insertPending(String transactionId, long certReqId, String requester,
      String template, String subject, String bodyType, byte[] publicKey, byte[] extensions, Instant at) throws StoreException;

  Optional<RequestRecord> find(long id) throws StoreException;

  /** The request of a CMP transaction (what a pollReq refers to). */
  Optional<RequestRecord> findByTransaction(String transactionId, long certReqId) throws StoreException;

  /** Oldest first; {@code status} null lists all. */
  List<RequestRecord> list(RequestRecord.Status status, int limit) throws StoreException;

  /** PENDING → APPROVED or DENIED; false when the request was not pending (decided meanwhile). */
  boolean decide(long id, RequestRecord.Status status, String by, String reason,
      String certSerial, Instant at) throws StoreException;
}
