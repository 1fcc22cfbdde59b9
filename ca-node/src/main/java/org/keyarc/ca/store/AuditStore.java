package org.keyarc.ca.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The audit chain's rows: append-only records, the head (last sequence number and hash) and the signed
 * checkpoints. The chain's rules (hashing, verification) live in {@code audit/AuditChain}; this is only
 * where the rows are kept. Every method runs on the caller's unit of work ({@link StoreTx}).
 */
public interface AuditStore {
  /** One record as stored. */
  record Row(long seq, Instant at, String actor, String action, String target, String detail,
      String prevHash, String hash) {}

  /** The chain head: the last sequence number handed out and the last record's hash. */
  record Head(long seq, String hash) {}

  /** A signed checkpoint of the head at {@code seq}. */
  record Checkpoint(long seq, String hash, Instant at, String keyLabel, byte[] signature) {}

  /**
   * Appends a record chained to the head and returns its sequence number. The head row stays locked until
   * the transaction ends, so appends are serialised and the chain stays linear.
   */
  long append(String actor, String action, String target, String detail, Instant at) throws StoreException;

  Head head() throws StoreException;

  /** Records with {@code from <= seq <= to}, in order. */
  List<Row> records(long from, long to) throws StoreException;

  Optional<Checkpoint> checkpointAt(long seq) throws StoreException;

  void insertCheckpoint(Checkpoint checkpoint) throws StoreException;

  /** All checkpoints in order. */
  List<Checkpoint> checkpoints() throws StoreException;

  /** The detail of the newest record with {@code action}, if any. */
  Optional<String> lastDetail(String action) throws StoreException;
}
