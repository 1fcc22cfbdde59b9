package org.keyarc.ca.store;

import java.time.Instant;
import java.util.Optional;

/** Published CRLs. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface CrlStore {
  /** A published CRL. */
  record Row(long number, Instant thisUpdate, Instant nextUpdate, byte[] der) {}

  /**
   * Takes the cluster-wide CRL publication lock until the unit of work ends (a row lock on {@code crl_lock}, on
   * H2 and PostgreSQL alike): nodes publishing at once publish one after the other, each with the next number and
   * with the revocations committed before it.
   */
  void lockPublication() throws StoreException;

  /** The next CRL number: one above the highest published. */
  long nextNumber() throws StoreException;

  void insert(Row r) throws StoreException;

  Optional<Row> latest() throws StoreException;
}
