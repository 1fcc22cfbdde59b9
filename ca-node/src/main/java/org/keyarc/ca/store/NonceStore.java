package org.keyarc.ca.store;

import java.time.Instant;

/**
 * The (transactionID, senderNonce) of every protected CMP request within the messageTime skew window: what
 * refuses a replay, across restarts and across nodes sharing the database. Every method runs on the caller's
 * unit of work ({@link StoreTx}).
 */
public interface NonceStore {
  /**
   * Remembers a request's transactionID and senderNonce (hex) with its messageTime.
   *
   * @throws StoreException with {@link StoreException#isConstraintViolation()} when the pair is already
   *     there: the request is a replay
   */
  void remember(String transactionId, String senderNonce, Instant messageTime, Instant seenAt)
      throws StoreException;

  /** Whether the pair is remembered already. */
  boolean seen(String transactionId, String senderNonce) throws StoreException;

  /** Forgets every pair whose messageTime is before {@code messageTime}; returns how many. */
  int forgetBefore(Instant messageTime) throws StoreException;
}
