package org.keyarc.ca.store;

import java.time.Instant;
import java.util.Optional;

/** One-time enrollment secrets (their hash and binding, never the secret). Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface SecretStore {
  void insert(SecretRecord s) throws StoreException;

  Optional<SecretRecord> find(String reference) throws StoreException;

  /** Marks the secret used; false when it was already used (another request won the race). */
  default boolean markUsed(String reference, Instant at) throws StoreException {
    return markUsed(reference, at, null);
  }

  /**
   * Marks the secret used in CMP transaction {@code transactionId} (hex; may be null); false when it was
   * already used (another request won the race).
   */
  boolean markUsed(String reference, Instant at, String transactionId) throws StoreException;

  /** Counts one failed MAC for the secret; returns the count now, or 0 when there is no such secret. */
  int recordFailure(String reference) throws StoreException;
}
