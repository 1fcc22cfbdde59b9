package org.keyarc.ca.store;

/**
 * The CA's durable store, behind small interfaces: the services ask a unit of work ({@link StoreTx}) for
 * the part they need ({@code tx.certificates()}, {@code tx.audit()} …) and everything one piece of work
 * does commits as a whole or not at all — which is how a certificate, its archive and its audit record
 * land together or not at all (invariant 3). {@code store/jdbc} implements it on H2 and PostgreSQL.
 */
public interface Store extends AutoCloseable {

  /** Runs {@code work} in one transaction: commit if it returns, roll back if it throws. */
  <T> T inTransaction(TxWork<T> work) throws org.keyarc.ca.CaException;

  /**
   * Runs {@code work} atomically, like {@link #inTransaction}, but possibly together with other threads'
   * work in one database transaction (group commit): one commit, and so one write to disk, for many
   * requests. Each piece runs inside its own savepoint: if it throws, only its changes are rolled back
   * and only its caller sees the exception. Returns after the shared commit, so what it returns is durable.
   */
  <T> T inGroupTransaction(TxWork<T> work) throws org.keyarc.ca.CaException;

  /**
   * {@link #inGroupTransaction}, without waiting: the future completes after the shared commit (with what
   * {@code work} returned, or what it or the commit threw), on the committing thread, so what follows it there should
   * be short or hand itself to another executor. Stores without a group committer run the work now.
   */
  default <T> java.util.concurrent.CompletableFuture<T> inGroupTransactionAsync(TxWork<T> work) {
    try {
      return java.util.concurrent.CompletableFuture.completedFuture(inGroupTransaction(work));
    } catch (org.keyarc.ca.CaException | RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Waits, up to {@code timeout}, until no group commit is queued or running, so that at shutdown the answers waiting
   * for one are handed on before the node's workers stop. True when idle (at once for stores without a committer).
   */
  default boolean awaitIdle(java.time.Duration timeout) {
    return true;
  }

  /**
   * Makes the units of work of this store append their audit records to {@code chain} (one chain per node, so
   * that nodes do not wait on each other; {@code AuditStore.MAIN} until this is called), creating it if new.
   */
  void useAuditChain(String chain) throws org.keyarc.ca.CaException;

  /** "H2" or "PostgreSQL". */
  String product();

  /**
   * A new feed of the changes nodes commit to this store ({@link ChangeFeed#NONE} where only one node can open it);
   * the caller closes it.
   */
  default ChangeFeed changeFeed() {
    return ChangeFeed.NONE;
  }

  /** The cluster's leader lock on this store ({@link LeaderLock#SOLE} where only one node can open it). */
  default LeaderLock leaderLock() {
    return LeaderLock.SOLE;
  }

  @Override
  void close();
}
