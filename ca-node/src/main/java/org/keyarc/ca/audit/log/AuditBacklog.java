package org.keyarc.ca.audit.log;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.Store;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit records of refusals, which stand alone (nothing else is committed with them): a failed
 * authentication, an authorisation or archival refusal. A refusal still goes out when the store cannot take its
 * record (a full disk), so the record is kept here, in memory and in order, and written — with the time of the
 * refusal — as soon as the store takes writes again: by the next refusal or by the audit checkpoint timer, which
 * drains this before it signs. Up to {@link #CAPACITY} records wait; while that many do, the node refuses every
 * request before any work ({@link #requireRoom}), so that no refusal goes unaudited (issue 14, finding 10).
 * Records of changes never come here: they commit with their change or the change fails (invariant 6).
 */
public final class AuditBacklog {
  private static final Logger LOG = LoggerFactory.getLogger(AuditBacklog.class);
  /** Records that may wait for the store; then requests are refused. */
  public static final int CAPACITY = 10_000;

  private record Pending(String actor, AuditAction action, String target, String detail, Instant at) {}

  private final Store store;
  private final int capacity;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();

  public AuditBacklog(Store store) {
    this(store, CAPACITY);
  }

  AuditBacklog(Store store, int capacity) {
    this.store = store;
    this.capacity = capacity;
  }

  /**
   * Writes a refusal's record in a unit of work of its own; when the store cannot take it, keeps it to be written
   * later. Never throws.
   */
  public void append(String actor, AuditAction action, String target, String detail, Instant at) {
    if (waiting() > 0) {
      drain(); // the older records first, if the store takes writes again
    }
    synchronized (pending) {
      if (pending.isEmpty()) {
        try {
          store.inTransaction(tx -> Audit.append(tx, actor, action, target, detail, at));
          return;
        } catch (CaException | RuntimeException e) {
          LOG.warn("the audit record of {} waits in memory until the store takes it: {}", action.id(),
              e.getMessage());
        }
      }
      if (pending.size() < capacity) {
        pending.add(new Pending(actor, action, target, detail, at));
      }
      // when full, requests are refused before any work (requireRoom), so no new refusal arrives here
    }
  }

  /**
   * Writes the waiting records, oldest first, in one unit of work; returns how many were written (0 when none
   * waited or the store still fails, in which case they keep waiting).
   */
  public synchronized int drain() {
    List<Pending> batch;
    synchronized (pending) {
      if (pending.isEmpty()) {
        return 0;
      }
      batch = new ArrayList<>(pending);
    }
    try {
      store.inTransaction(tx -> {
        for (Pending p : batch) {
          Audit.append(tx, p.actor(), p.action(), p.target(), p.detail() + " (written late: the store failed at "
              + p.at() + ")", p.at());
        }
        return null;
      });
    } catch (CaException | RuntimeException e) {
      return 0;
    }
    synchronized (pending) {
      for (int i = 0; i < batch.size(); i++) {
        pending.poll();
      }
    }
    LOG.warn("{} audit records that waited for the store are written", batch.size());
    return batch.size();
  }

  /** How many records wait for the store. */
  public int waiting() {
    synchronized (pending) {
      return pending.size();
    }
  }

  /** Refuses (STORE_ERROR) while the backlog is full: a further refusal could not be audited. */
  public void requireRoom() throws CaException {
    if (waiting() >= capacity && drain() == 0) {
      throw new CaException(ErrorCode.STORE_ERROR, "the audit log cannot be written and " + capacity
          + " audit records wait in memory; requests are refused until the store takes them");
    }
  }
}
