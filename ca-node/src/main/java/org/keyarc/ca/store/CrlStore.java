package org.keyarc.ca.store;

import java.time.Instant;
import java.util.Optional;

/** Published CRLs. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface CrlStore {
  /** A published CRL: a complete one ({@code baseNumber} null) or a delta CRL over the complete CRL it names. */
  record Row(long number, Instant thisUpdate, Instant nextUpdate, byte[] der, Long baseNumber, int generation) {
    /** A complete CRL of the first CA key. */
    public Row(long number, Instant thisUpdate, Instant nextUpdate, byte[] der) {
      this(number, thisUpdate, nextUpdate, der, null, 0);
    }
  }

  /**
   * Takes the cluster-wide CRL publication lock until the unit of work ends (a row lock on {@code crl_lock}, on
   * H2 and PostgreSQL alike): nodes publishing at once publish one after the other, each with the next number and
   * with the revocations committed before it.
   */
  void lockPublication() throws StoreException;

  /** The next CRL number: one above the highest published. */
  long nextNumber() throws StoreException;

  void insert(Row r) throws StoreException;

  /** The newest complete CRL of any CA key. */
  default Optional<Row> latest() throws StoreException {
    return latest(-1);
  }

  /** The newest complete CRL signed by the CA key of {@code generation} (-1: of any). */
  Optional<Row> latest(int generation) throws StoreException;

  /** The complete CRL of {@code generation} with the lowest number among those valid after {@code at}. */
  Optional<Row> oldestValid(int generation, Instant at) throws StoreException;

  /** The newest delta CRL signed by the CA key of {@code generation} (-1: of any). */
  Optional<Row> latestDelta(int generation) throws StoreException;
}
