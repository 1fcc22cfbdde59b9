package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Agent rotations and recoverability drills ({@code kra rotate}, {@code kra drill}): each ceremony's CA-signed order
 * and how far each of its archives got. Every method runs on the caller's unit of work ({@link StoreTx}).
 */
public interface CeremonyStore {
  /** What a ceremony does. */
  enum Kind { ROTATION, DRILL }

  /**
   * How far one archive got. FAILED items can be answered again; SUPERSEDED ones were taken over by a later ceremony of
   * the same kind and are answered no more.
   */
  enum ItemStatus { PENDING, DONE, FAILED, SUPERSEDED }

  /** One ceremony. {@code signedOrder} is the CMS SignedData the agents work from. */
  record Row(long id, Kind kind, byte[] signedOrder, String startedBy, Instant startedAt) {
    @Override
    public String toString() {
      return "Ceremony[" + id + ", " + kind + "]";
    }
  }

  /** One archive of a ceremony. */
  record Item(String issuer, BigInteger serial, ItemStatus status, Instant doneAt, String detail) {}

  /** A new ceremony without its order yet; its id. */
  long create(Kind kind, String by, Instant at) throws StoreException;

  void setOrder(long id, byte[] signedOrder) throws StoreException;

  /** The latest ceremony file an agent handed back through the node (online steps), and its version (0: none yet). */
  record Progress(byte[] work, int version) {}

  /**
   * Replaces the file of version {@code expected} (compare and set: false, and nothing changed, when another file
   * was handed back meanwhile); {@code work} null starts again from the blobs.
   */
  boolean setProgress(long id, byte[] work, String by, Instant at, int expected) throws StoreException;

  Progress progress(long id) throws StoreException;

  void addItem(long id, String issuer, BigInteger serial) throws StoreException;

  Optional<Row> find(long id) throws StoreException;

  /** The newest ceremonies first, at most {@code limit}. */
  List<Row> list(int limit) throws StoreException;

  List<Item> items(long id) throws StoreException;

  void setStatus(long id, String issuer, BigInteger serial, ItemStatus status, Instant at, String detail)
      throws StoreException;

  /** The archives that a ceremony of {@code kind} still waits for (PENDING). */
  List<ArchiveStore.Key> unfinished(Kind kind) throws StoreException;

  /** Marks the PENDING and FAILED items of {@code serial} in other ceremonies of {@code kind} SUPERSEDED by {@code by}. */
  void supersede(Kind kind, String issuer, BigInteger serial, long by, Instant at) throws StoreException;
}
