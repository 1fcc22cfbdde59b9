package org.keyarc.ca.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.keyarc.ca.CaException;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.TxWork;

/**
 * Group commit for {@link JdbcStore#inGroupTransaction}: one thread takes whatever work is waiting (up to
 * {@link #MAX_BATCH} pieces), runs each piece in its own savepoint on one connection, commits once, and
 * only then completes the callers. Under load many issuances share one commit (one disk write); alone, a
 * piece commits at once, so nothing waits for a timer. A piece that throws is rolled back to its
 * savepoint and does not affect the others: each stays all-or-nothing (certificate, archive and audit
 * record together). One writer also means audit appends never wait on each other's row lock.
 */
final class GroupCommitter implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GroupCommitter.class);
  static final int MAX_BATCH = 128;

  /**
   * Units of work per commit (keyarc_store_group_commit_size: its count is the number of commits, its sum the units;
   * in the node's registry through the global one).
   */
  private static final io.micrometer.core.instrument.DistributionSummary COMMIT_SIZE =
      io.micrometer.core.instrument.DistributionSummary.builder("keyarc.store.group.commit.size")
          .description("units of work (issuances, replay records...) committed together in one group commit")
          .register(io.micrometer.core.instrument.Metrics.globalRegistry);

  private record Piece(TxWork<?> work, CompletableFuture<Object> result) {}

  /** A piece that threw; kept apart so that a null result stays a result. */
  private record Failed(Throwable cause) {}

  private final DataSource dataSource;
  private final BlockingQueue<Piece> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;
  /** True while a batch taken from the queue is being committed and its callers completed. */
  private volatile boolean running;

  private final StoreHealing healing;

  private final java.util.function.Supplier<String> auditChain;

  GroupCommitter(DataSource dataSource, StoreHealing healing, java.util.function.Supplier<String> auditChain) {
    this.dataSource = dataSource;
    this.auditChain = auditChain;
    this.healing = healing;
    this.thread = new Thread(this::loop, "keyarc-group-commit");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * Queues {@code work}; the future completes after its commit, on the commit thread, with its result or with the
   * CaException or RuntimeException that failed it (a store failure as a StoreException).
   */
  @SuppressWarnings("unchecked")
  <T> CompletableFuture<T> submitAsync(TxWork<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreException("the store is closed"));
    }
    if (!thread.isAlive()) {
      return CompletableFuture.failedFuture(new StoreException("store error: the commit thread has stopped; restart "
          + "the node"));
    }
    CompletableFuture<Object> f = new CompletableFuture<>();
    queue.add(new Piece(work, f));
    if (closed || !thread.isAlive()) { // closed or stopped meanwhile: the thread may have drained the queue already
      failWaiting();
    }
    return (CompletableFuture<T>) (CompletableFuture<?>) f;
  }

  /** Fails every piece still queued: the commit thread has stopped (closed, or killed by the JVM's own errors). */
  private void failWaiting() {
    List<Piece> left = new ArrayList<>();
    queue.drainTo(left);
    for (Piece p : left) {
      p.result().completeExceptionally(new StoreException(closed ? "the store is closed"
          : "store error: the commit thread has stopped; restart the node"));
    }
  }

  /**
   * Waits, up to {@code timeout}, until no piece is queued or being committed (at shutdown: the answers that wait
   * for a commit are handed on before the node's workers stop). True when it is idle.
   */
  boolean awaitIdle(java.time.Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!queue.isEmpty() || running) {
      if (System.nanoTime() > end || !thread.isAlive()) {
        return false;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  <T> T submit(TxWork<T> work) throws CaException {
    if (closed) {
      throw new StoreException("the store is closed");
    }
    if (Thread.currentThread() == thread) { // it would wait for itself forever
      throw new StoreException("store error: a group commit cannot be waited for on the commit thread");
    }
    CompletableFuture<Object> f = new CompletableFuture<>();
    queue.add(new Piece(work, f));
    try {
      // waits for the commit, and never for a commit thread that is gone (it dies only with the JVM's own errors)
      while (true) {
        try {
          return (T) f.get(1, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          if (!thread.isAlive() && !f.isDone()) {
            throw new StoreException("store error: the commit thread has stopped; restart the node");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the commit", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof CaException k) {
        throw k;
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new StoreException("store error: " + StoreException.rootMessage(c), c);
    }
  }

  private void loop() {
    try {
      commitWhileOpen();
    } finally {
      failWaiting(); // whatever is left when the thread ends is told so, never left waiting
    }
  }

  private void commitWhileOpen() {
    List<Piece> batch = new ArrayList<>();
    while (!closed || !queue.isEmpty()) {
      try {
        Piece first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        running = true;
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        run(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        for (Piece p : batch) {
          p.result().completeExceptionally(e);
        }
      } catch (Throwable e) { // an Error in one piece's work (a stack overflow, say): the batch fails, the thread goes on
        LOG.error("a group commit failed with {}; its {} piece(s) were rolled back", e.getClass().getName(),
            batch.size(), e);
        StoreException failure = new StoreException("store error: the unit of work failed inside the node ("
            + e.getClass().getSimpleName() + "); nothing of it was stored", e);
        for (Piece p : batch) {
          p.result().completeExceptionally(failure);
        }
      } finally {
        batch.clear();
        running = false;
      }
    }
  }

  /** Runs {@code batch} in one unit of work; an H2 internal check failing fails the batch as a store error. */
  private void run(List<Piece> batch) {
    try {
      runBatch(batch);
    } catch (AssertionError e) {
      StoreException failure = healing.failedCheck(e);
      for (Piece p : batch) {
        p.result().completeExceptionally(failure);
      }
    }
  }

  private void runBatch(List<Piece> batch) {
    List<Object> results = new ArrayList<>(batch.size());
    AuditCursor audit = new AuditCursor(auditChain.get());
    try (Connection c = dataSource.getConnection()) {
      try {
        // one audit head for the batch: each unit's records chain on from the last, the head row is written once
        JdbcTx tx = new JdbcTx(c, audit);
        for (Piece p : batch) {
          AuditCursor.Mark mark = audit.mark();
          Savepoint sp = c.setSavepoint();
          try {
            results.add(p.work().run(tx));
            c.releaseSavepoint(sp);
          } catch (CaException | RuntimeException e) {
            healing.failed(e);
            c.rollback(sp);
            audit.reset(mark); // as the rows are: the unit's records are gone, the head is where it was
            results.add(new Failed(e));
          }
        }
        tx.beforeCommit();
        c.commit();
        COMMIT_SIZE.record(batch.size());
        healing.succeeded();
      } catch (SQLException | RuntimeException | Error e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      healing.failed(e);
      for (Piece p : batch) {
        p.result().completeExceptionally(healing.explain(StoreException.of(e)));
      }
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      Object r = results.get(i);
      if (r instanceof Failed f) {
        batch.get(i).result().completeExceptionally(healing.explain(f.cause()));
      } else {
        batch.get(i).result().complete(r);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
