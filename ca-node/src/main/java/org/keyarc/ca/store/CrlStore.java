package org.keyarc.ca.store;

import java.time.Instant;
import java.util.Optional;

/** Published CRLs. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface CrlStore {
  /** A published CRL. */
  record Row(long number, Instant thisUpdate, Instant nextUpdate, byte[] der) {}

  /** The next CRL number: one above the highest published. */
  long nextNumber() throws StoreException;

  void insert(Row r) throws StoreException;

  Optional<Row> latest() throws StoreException;
}
