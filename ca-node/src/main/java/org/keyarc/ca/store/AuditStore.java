package org.keyarc.ca.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The audit chains' rows: append-only records in one hash chain per node, each chain's head (last sequence
 * number and hash) and the signed checkpoints over every head. The chains' rules (hashing, verification) live in
 * {@code audit/AuditChain}; this is only where the rows are kept. Every method runs on the caller's unit of work
 * ({@link StoreTx}), whose appends go to the store's own chain ({@link #chain()}).
 */
public interface AuditStore {
  /** The chain of every record made before there were several ({@code audit.chain} unset). */
  String MAIN = "main";

  /**
   * One record as stored: {@code seq} numbers it within its {@code chain}; {@code id} is the order of insertion
   * across all chains (for paging, not part of any hash).
   */
  record Row(long id, String chain, long seq, Instant at, String actor, String action, String target,
      String detail, String prevHash, String hash) {
    /** A record of the {@link #MAIN} chain whose id is its sequence number (tests, single-chain tools). */
    public Row(long seq, Instant at, String actor, String action, String target, String detail, String prevHash,
        String hash) {
      this(seq, MAIN, seq, at, actor, action, target, detail, prevHash, hash);
    }
  }

  /** A chain's head: the last sequence number handed out and the last record's hash. */
  record Head(String chain, long seq, String hash) {
    /** The head of the {@link #MAIN} chain. */
    public Head(long seq, String hash) {
      this(MAIN, seq, hash);
    }
  }

  /**
   * Signed checkpoint number {@code num}. Version 3 signs {@code num}, {@code at}, {@code prevNum}, the SHA-256 of
   * the previous checkpoint's signature and every chain's head ({@code heads}, sorted by chain). Versions 1 and 2
   * were signed before there were several chains and hold the {@link #MAIN} chain's head only: version 1 signs
   * that head, version 2 also the previous checkpoint (its record's sequence number and its signature's SHA-256).
   * {@code prevNum} is the previous checkpoint's number (0 for the first; -1 when a version-2 checkpoint's
   * predecessor was already gone when the store was migrated).
   */
  record Checkpoint(long num, int version, Instant at, String keyLabel, long prevNum, List<Head> heads,
      byte[] signature) {
    public Checkpoint {
      heads = List.copyOf(heads);
    }

    /** The head of {@code chain} this checkpoint signs, if it signs one. */
    public Optional<Head> head(String chain) {
      return heads.stream().filter(h -> h.chain().equals(chain)).findFirst();
    }
  }

  /** The chain this store appends to. */
  String chain();

  /**
   * Appends a record to {@link #chain()}, chained to its head, and returns its sequence number. The head row stays
   * locked until the transaction ends, so appends to one chain are serialised and the chain stays linear; other
   * chains (other nodes) do not wait.
   */
  long append(String actor, String action, String target, String detail, Instant at) throws StoreException;

  /** The head of {@link #chain()}. */
  Head head() throws StoreException;

  /** Every chain's head, sorted by chain. */
  List<Head> heads() throws StoreException;

  /** The records of {@code chain} with {@code from <= seq <= to}, in order. */
  List<Row> records(String chain, long from, long to) throws StoreException;

  /** The records of this store's own chain with {@code from <= seq <= to}, in order. */
  default List<Row> records(long from, long to) throws StoreException {
    return records(chain(), from, to);
  }

  /** Every record of every chain, in order of insertion. */
  default List<Row> all() throws StoreException {
    return records(1, null, null, null, null, null, Integer.MAX_VALUE);
  }

  /** The names of the chains that hold records, sorted. */
  List<String> recordChains() throws StoreException;

  Optional<Checkpoint> checkpoint(long num) throws StoreException;

  void insertCheckpoint(Checkpoint checkpoint) throws StoreException;

  /** The checkpoints numbered above {@code num}, by number. */
  List<Checkpoint> checkpointsAfter(long num) throws StoreException;

  /** All checkpoints by number. */
  List<Checkpoint> checkpoints() throws StoreException;

  /** The checkpoint with the highest number, if any. */
  Optional<Checkpoint> lastCheckpoint() throws StoreException;

  /**
   * Records with {@code id >= fromId} (any chain) whose action, actor and target match the given values (null:
   * any), in order of insertion, at most {@code limit}.
   */
  List<Row> records(long fromId, Instant since, Instant until, String action, String actor, String target,
      int limit) throws StoreException;

  /** The detail of the newest record with {@code action}, in any chain, if any. */
  Optional<String> lastDetail(String action) throws StoreException;
}
