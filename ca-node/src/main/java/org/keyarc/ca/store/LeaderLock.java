package org.keyarc.ca.store;

/**
 * Which node of a cluster on one database runs the scheduled work (CRL publication, the certConf reaper, key
 * renewals, audit checkpoints): the one that holds this lock. On PostgreSQL a session advisory lock on a
 * connection of its own, which the database frees the moment that connection ends (the node stopped, was killed,
 * or lost the database); on the embedded store, which one process opens, always held.
 */
public interface LeaderLock extends AutoCloseable {
  /** The lock of a store only one node can open: always held. */
  LeaderLock SOLE = new LeaderLock() {
    @Override
    public boolean hold() {
      return true;
    }

    @Override
    public void close() {}
  };

  /**
   * Whether this node holds the lock now: takes it if it is free, and checks that a lock held before is still
   * held (its connection alive). Never throws: a failure means not held.
   */
  boolean hold();

  /** Gives the lock up. */
  @Override
  void close();
}
