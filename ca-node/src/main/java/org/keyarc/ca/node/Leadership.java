package org.keyarc.ca.node;

import org.keyarc.ca.store.LeaderLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node runs the cluster's scheduled work: CRL publication, the certConf reaper, exchange and responder
 * renewal and retirement, audit checkpoints and the replay-record purge are done once across the nodes of one
 * database, by the node holding the store's {@link LeaderLock}. Polled every {@link #POLL_SECONDS} s, so a leader
 * that dies is replaced within that (PostgreSQL frees a dead session's lock at once). Every change is logged.
 */
final class Leadership implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);
  /** How often each node checks or takes the lock. */
  static final int POLL_SECONDS = 2;

  private final LeaderLock lock;
  private final String nodeId;
  private volatile boolean leader;

  Leadership(LeaderLock lock, String nodeId) {
    this.lock = lock;
    this.nodeId = nodeId;
  }

  /** Checks or takes the lock; returns whether this node leads now. */
  boolean poll() {
    return poll(true);
  }

  /**
   * Checks or takes the lock while this node's parts work ({@code fit}); gives it up while they do not (its
   * store or token fails), so that a node that can do the work leads.
   */
  boolean poll(boolean fit) {
    if (!fit) {
      if (leader && lock != LeaderLock.SOLE) {
        lock.close();
        leader = false;
        LOG.warn("node {} gives up the lead: its store or CA token does not answer", nodeId);
      }
      return leader = lock == LeaderLock.SOLE;
    }
    boolean now = lock.hold();
    if (now != leader) {
      leader = now;
      if (lock != LeaderLock.SOLE) {
        LOG.warn(now ? "node {} now leads the scheduled work (CRLs, certConf timeouts, renewals, checkpoints)"
            : "node {} no longer leads the scheduled work", nodeId);
      }
    }
    return now;
  }

  boolean leader() {
    return leader;
  }

  String nodeId() {
    return nodeId;
  }

  @Override
  public void close() {
    leader = false;
    lock.close();
  }
}
