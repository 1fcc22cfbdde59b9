package org.keyarc.ca.store.jdbc;

import org.keyarc.ca.store.StoreException;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery of the store after a failed write, such as a full disk. PostgreSQL refuses the write and goes on by
 * itself once space is back; the embedded H2 does not: its MVStore, once a write fails, stays closed in memory and
 * repeats the failure for as long as any connection holds the database open, so the node never recovered until it
 * was restarted (issue 14, finding 10). When a failure says the database is broken (an I/O error, or "closed"),
 * every pooled connection is retired (HikariCP soft eviction: idle ones at once, busy ones when returned); the last
 * close closes the database, and the next connection opens it afresh from its file, where every commit that
 * returned is whole. The first failure and the first success after it are logged, not each one.
 */
final class StoreHealing {
  private static final Logger LOG = LoggerFactory.getLogger(StoreHealing.class);
  /** H2: IO_EXCEPTION_1, IO_EXCEPTION_2, DATABASE_IS_CLOSED, DATABASE_CALLED_AT_SHUTDOWN. */
  private static final java.util.Set<Integer> H2_BROKEN = java.util.Set.of(90028, 90031, 90098, 90121);
  private static final long EVICT_EVERY_NANOS = 1_000_000_000L;

  private final HikariDataSource dataSource;
  private final AtomicBoolean failing = new AtomicBoolean();
  /** The root message of the failure that broke the store, while it is broken. */
  private volatile String firstFailure;
  private final AtomicLong lastEvict = new AtomicLong(System.nanoTime() - EVICT_EVERY_NANOS);

  StoreHealing(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Whether {@code e} (or a cause of it) says the database itself failed, not only this statement: the driver's
   * own codes for I/O failure and a closed database (H2), a connection failure (SQLState class 08), or H2's store
   * failing underneath. Nothing a client sends leads here.
   */
  static boolean broken(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException s && (H2_BROKEN.contains(s.getErrorCode())
          || (s.getSQLState() != null && s.getSQLState().startsWith("08")))) {
        return true;
      }
      if (t.getClass().getName().equals("org.h2.mvstore.MVStoreException") || fromH2(t)) {
        return true;
      }
    }
    return false;
  }

  /** True for an AssertionError thrown inside H2: its store is in a state it cannot go on from. */
  static boolean fromH2(Throwable t) {
    return t instanceof AssertionError && t.getStackTrace().length > 0
        && t.getStackTrace()[0].getClassName().startsWith("org.h2.");
  }

  /**
   * A unit of work met one of H2's own internal checks ({@link #fromH2}): the database is broken, its connections
   * are retired, and the caller gets a store error. Any other AssertionError is thrown on.
   */
  StoreException failedCheck(AssertionError e) {
    if (!fromH2(e)) {
      throw e;
    }
    failed(e);
    return new StoreException("the embedded database failed an internal check after a failed write (" + e
        + "); it is reopened", e);
  }

  /** A unit of work failed with {@code e}: when the database is broken, retire the pool's connections. */
  void failed(Throwable e) {
    if (!broken(e)) {
      return;
    }
    if (failing.compareAndSet(false, true)) {
      firstFailure = JdbcStore.rootMessage(e);
      LOG.warn("the store failed: {}; its connections are reopened until it works again", firstFailure);
    }
    long now = System.nanoTime();
    long last = lastEvict.get();
    if (now - last >= EVICT_EVERY_NANOS && lastEvict.compareAndSet(last, now)) {
      var pool = dataSource.getHikariPoolMXBean();
      if (pool != null) {
        pool.softEvictConnections();
      }
    }
  }

  /** A unit of work committed. */
  void succeeded() {
    if (failing.get() && failing.compareAndSet(true, false)) {
      firstFailure = null;
      LOG.warn("the store answers again");
    }
  }

  /**
   * {@code e} with the failure that broke the store, when it does not say it already: after a full disk, H2's
   * later errors name only their own symptom ("Transaction 1 is closed"), not the cause an operator must fix.
   */
  Throwable explain(Throwable e) {
    String first = firstFailure;
    if (!(e instanceof StoreException) || first == null || !failing.get() || e.getMessage() == null
        || e.getMessage().contains(first)) {
      return e;
    }
    return new StoreException(e.getMessage() + " (the store failed: " + first + ")", e.getCause());
  }
}
