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

  /**
   * A signed checkpoint of the head at {@code seq}. Version 1 signs (seq, hash); version 2 also signs the previous
   * checkpoint ({@code prevSeq} and the SHA-256 of its signature; 0 and zeros for the first), so checkpoints chain.
   */
  record Checkpoint(long seq, String hash, Instant at, String keyLabel, byte[] signature, int version, long prevSeq) {
    /** A version-1 checkpoint (before checkpoints chained). */
    public Checkpoint(long seq, String hash, Instant at, String keyLabel, byte[] signature) {
      this(seq, hash, at, keyLabel, signature, 1, 0);
    }
  }

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

  /** The checkpoint with the highest sequence number, if any. */
  Optional<Checkpoint> lastCheckpoint() throws StoreException;

  /**
   * Records with {@code from <= seq <= to} whose action, actor and target match the given values (null: any),
   * in order, at most {@code limit}.
   */
  List<Row> records(long from, long to, java.time.Instant since, java.time.Instant until, String action,
      String actor, String target, int limit) throws StoreException;

  /** The detail of the newest record with {@code action}, if any. */
  Optional<String> lastDetail(String action) throws StoreException;
}
