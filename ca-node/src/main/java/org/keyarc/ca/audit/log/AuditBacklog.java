package org.keyarc.ca.audit.log;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.Store;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit records of refusals, which stand alone (nothing else is committed with them): a failed
 * authentication, an authorisation or archival refusal. A refusal still goes out when the store cannot take its
 * record (a full disk), so the record is kept here, in memory and in order, and written — with the time of the
 * refusal — once the store takes writes again: by a later refusal (at most one attempt a second) or by the audit
 * checkpoint timer, which drains this before it signs. Records of changes never come here: they commit with their
 * change or the change fails (invariant 6).
 *
 * <p>Bounds: at most {@link #CAPACITY} records wait; from {@link #REFUSE_AT} on, the node refuses every CMP
 * request before any work ({@link #requireRoom}), so that the refusals still in flight fit (a message may bring 64).
 * A record that does not fit all the same is counted, and the count is itself audited when the store is back. Every
 * field is cut to its column and freed of control characters on the way in, so that no record can be refused for
 * its content; should one be refused anyway while others are taken, a placeholder naming it takes its place
 * rather than holding up those behind it. Writes happen outside any lock the request path waits on.
 */
public final class AuditBacklog {
  private static final Logger LOG = LoggerFactory.getLogger(AuditBacklog.class);
  /** Records that may wait for the store. */
  public static final int CAPACITY = 10_000;
  /** Waiting records from which requests are refused. */
  public static final int REFUSE_AT = 8_000;
  /** Records written in one unit of work while draining. */
  static final int CHUNK = 500;
  private static final long RETRY_NANOS = 1_000_000_000L;

  private record Pending(String actor, AuditAction action, String target, String detail, Instant at) {}

  private final Store store;
  private final int capacity;
  private final int refuseAt;
  private final ConcurrentLinkedDeque<Pending> pending = new ConcurrentLinkedDeque<>();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final Object draining = new Object();
  private volatile long nextTry = System.nanoTime();

  public AuditBacklog(Store store) {
    this(store, CAPACITY, REFUSE_AT);
  }

  AuditBacklog(Store store, int capacity, int refuseAt) {
    this.store = store;
    this.capacity = capacity;
    this.refuseAt = refuseAt;
  }

  /**
   * Writes a refusal's record in a unit of work of its own; when the store cannot take it, or older records still
   * wait, keeps it to be written later. Never throws.
   */
  public void append(String actor, AuditAction action, String target, String detail, Instant at) {
    Pending p = new Pending(clean(actor, 1000), action, clean(target, 1000), clean(detail, 3800), at);
    if (waiting.get() > 0) {
      drain(false); // the older records first, if the store takes writes again
    }
    if (waiting.get() == 0) {
      try {
        store.inTransaction(tx -> Audit.append(tx, p.actor(), p.action(), p.target(), p.detail(), p.at()));
        return;
      } catch (CaException | RuntimeException e) {
        LOG.warn("the audit record of {} waits in memory until the store takes it: {}", action.id(), e.getMessage());
        nextTry = System.nanoTime() + RETRY_NANOS;
      }
    }
    if (waiting.incrementAndGet() <= capacity) {
      pending.add(p);
    } else {
      waiting.decrementAndGet();
      if (dropped.incrementAndGet() % 1000 == 1) {
        LOG.error("audit backlog full ({} records wait): {} refusal records lost so far; the count is audited when "
            + "the store is back", capacity, dropped.get());
      }
    }
  }

  /**
   * Writes the waiting records, oldest first, {@value #CHUNK} to a unit of work; returns how many were written
   * (they keep waiting where the store still fails). Also audits how many records were lost to a full backlog.
   */
  public int drain() {
    return drain(true);
  }

  private int drain(boolean now) {
    if (!now && System.nanoTime() < nextTry) {
      return 0;
    }
    synchronized (draining) {
      int written = 0;
      while (waiting.get() > 0) {
        List<Pending> chunk = new ArrayList<>(CHUNK);
        for (Pending p : pending) {
          chunk.add(p);
          if (chunk.size() == CHUNK) {
            break;
          }
        }
        if (!write(chunk)) {
          if (!writeAlone(chunk.get(0))) {
            nextTry = System.nanoTime() + RETRY_NANOS; // the store still fails: they keep waiting
            break;
          }
          chunk = chunk.subList(0, 1);
        }
        for (int i = 0; i < chunk.size(); i++) {
          pending.poll();
        }
        waiting.addAndGet(-chunk.size());
        written += chunk.size();
      }
      long lost = dropped.get();
      if (waiting.get() == 0 && lost > 0 && lost(lost)) {
        dropped.addAndGet(-lost);
      }
      if (written > 0) {
        LOG.warn("{} audit records that waited for the store are written", written);
      }
      return written;
    }
  }

  /** Writes {@code chunk} in one unit of work; false when the store refused it. */
  private boolean write(List<Pending> chunk) {
    try {
      store.inTransaction(tx -> {
        for (Pending p : chunk) {
          Audit.append(tx, p.actor(), p.action(), p.target(), p.detail() + " (written late: the store failed at "
              + p.at() + ")", p.at());
        }
        return null;
      });
      return true;
    } catch (CaException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The oldest record alone, when its chunk was refused: written, or, if the store takes other writes but not this
   * one, replaced by a placeholder; false when the store takes nothing.
   */
  private boolean writeAlone(Pending p) {
    if (write(List.of(p))) {
      return true;
    }
    Pending placeholder = new Pending(Audit.NODE, p.action(), p.target().length() > 200 ? p.target().substring(0,
        200) : p.target(), "the store refused this refusal's record by " + p.actor().length() + "/" + p.detail().length()
        + " characters of actor/detail; this placeholder records it", p.at());
    if (write(List.of(placeholder))) {
      LOG.error("the store refused the audit record of {} at {}; a placeholder records it", p.action().id(), p.at());
      return true;
    }
    return false;
  }

  private boolean lost(long n) {
    try {
      store.inTransaction(tx -> Audit.append(tx, Audit.NODE, AuditAction.AUDIT_RECORDS_LOST, "audit:backlog", n
          + " refusal records could not be kept while the store failed (the backlog holds " + capacity + ")",
          java.time.Instant.now()));
      return true;
    } catch (CaException | RuntimeException e) {
      return false;
    }
  }

  /** How many records wait for the store. */
  public int waiting() {
    return waiting.get();
  }

  /** Refuses (STORE_ERROR) while so many records wait that further refusals might not fit. */
  public void requireRoom() throws CaException {
    if (waiting.get() >= refuseAt && (drain(false) == 0 || waiting.get() >= refuseAt)) {
      throw new CaException(ErrorCode.STORE_ERROR, "the audit log cannot be written and " + waiting.get()
          + " audit records wait in memory; requests are refused until the store takes them");
    }
  }

  /** {@code s} without control characters or lone surrogates, at most {@code max} characters. */
  static String clean(String s, int max) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), max));
    for (int i = 0; i < s.length() && b.length() < max; i++) {
      char c = s.charAt(i);
      boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
      if (pair) {
        if (b.length() + 2 > max) {
          break; // a pair is not cut in half
        }
        b.append(c).append(s.charAt(++i));
      } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
        b.append('?');
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
