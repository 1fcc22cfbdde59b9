package org.keyarc.ca.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.store.StoreException;

/**
 * The group-commit thread outlives a unit of work that throws an Error (a stack overflow in one request's work): that
 * batch fails as a store error with nothing of it stored, and the next unit of work commits. Before, the thread died
 * and every later issuance waited for ever.
 */
class GroupCommitterTest {
  private com.zaxxer.hikari.HikariDataSource h2;
  private Connection keep;
  private GroupCommitter committer;

  @BeforeEach
  void open() throws Exception {
    com.zaxxer.hikari.HikariConfig cfg = new com.zaxxer.hikari.HikariConfig();
    cfg.setJdbcUrl("jdbc:h2:mem:group-commit-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
    cfg.setAutoCommit(false); // as the node's pool hands them out
    cfg.setMaximumPoolSize(3);
    h2 = new com.zaxxer.hikari.HikariDataSource(cfg);
    keep = h2.getConnection(); // keeps the in-memory database while the test runs
    try (Statement s = keep.createStatement()) {
      s.execute("CREATE TABLE t (v INT)");
      keep.commit();
    }
    committer = new GroupCommitter(h2, new StoreHealing(null), () -> null);
  }

  @AfterEach
  void close() throws Exception {
    committer.close();
    keep.close();
    h2.close();
  }

  private long rows() throws Exception {
    try (Statement s = keep.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
      rs.next();
      keep.commit();
      return rs.getLong(1);
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(60)
  void anErrorInOneUnitOfWorkFailsItAndTheNextOneCommits() throws Exception {
    StoreException e = assertThrows(StoreException.class, () -> committer.submit(tx -> {
      try (Statement s = ((JdbcTx) tx).connection().createStatement()) {
        s.execute("INSERT INTO t VALUES (1)");
      } catch (java.sql.SQLException x) {
        throw new IllegalStateException(x);
      }
      throw new StackOverflowError();
    }));
    assertTrue(e.getMessage().contains("the unit of work failed inside the node (StackOverflowError); nothing of it "
        + "was stored"), e.getMessage());
    assertEquals(0, rows(), "the failed unit of work left nothing");
    assertEquals(42, (int) committer.submit(tx -> {
      try (Statement s = ((JdbcTx) tx).connection().createStatement()) {
        s.execute("INSERT INTO t VALUES (2)");
      } catch (java.sql.SQLException x) {
        throw new IllegalStateException(x);
      }
      return 42;
    }));
    assertEquals(1, rows());
  }

  /**
   * The units of one group commit chain their audit records through one head kept in memory and written once: a unit
   * that fails after its append is rolled back with its record, and the next unit chains on from the one before it.
   * The chain in the store is linear (sequence numbers 1..n, each record's prev_hash the hash before it, every hash
   * recomputed from its fields), the head row is the last record, and a unit reading the head sees its own append.
   */
  @Test
  @org.junit.jupiter.api.Timeout(60)
  void theUnitsOfOneGroupCommitChainTheirAuditRecordsAndAFailedOneLeavesNoGap() throws Exception {
    try (Statement s = keep.createStatement()) {
      s.execute("CREATE TABLE audit_chain (chain VARCHAR(64) PRIMARY KEY, seq BIGINT NOT NULL, hash VARCHAR(64))");
      s.execute("CREATE TABLE audit_record (id BIGINT AUTO_INCREMENT PRIMARY KEY, chain VARCHAR(64), seq BIGINT, "
          + "at BIGINT, actor VARCHAR(200), action VARCHAR(64), target VARCHAR(200), detail VARCHAR(2000), "
          + "prev_hash VARCHAR(64), hash VARCHAR(64), UNIQUE (chain, seq))");
      s.execute("INSERT INTO audit_chain VALUES ('c1', 0, '" + org.keyarc.ca.audit.AuditChain.genesis("c1") + "')");
      keep.commit();
    }
    GroupCommitter audited = new GroupCommitter(h2, new StoreHealing(null), () -> "c1");
    try {
      java.time.Instant at = java.time.Instant.ofEpochMilli(1_700_000_000_000L);
      java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
      // the first unit holds the commit thread until every other unit is queued: they all run in the next batch
      java.util.concurrent.CompletableFuture<Long> first = audited.submitAsync(tx -> {
        try {
          hold.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return tx.audit().append("CN=a", "cert.issue", "serial:0", "first", at);
      });
      java.util.List<java.util.concurrent.CompletableFuture<Long>> units = new java.util.ArrayList<>();
      for (int i = 1; i <= 30; i++) {
        int n = i;
        units.add(audited.submitAsync(tx -> {
          long seq = tx.audit().append("CN=a", "cert.issue", "serial:" + n, "unit " + n, at.plusMillis(n));
          if (n % 3 == 0) {
            throw new org.keyarc.ca.CaException(org.keyarc.protocol.ErrorCode.BAD_REQUEST, "unit " + n + " fails");
          }
          if (n == 10) {
            assertEquals(seq, tx.audit().head().seq(), "a unit reading the head sees its own append");
          }
          return seq;
        }));
      }
      hold.countDown();
      assertEquals(1L, first.get());
      long expected = 2;
      for (int i = 1; i <= 30; i++) {
        java.util.concurrent.CompletableFuture<Long> f = units.get(i - 1);
        if (i % 3 == 0) {
          assertTrue(assertThrows(java.util.concurrent.ExecutionException.class, f::get).getCause().getMessage()
              .contains("unit " + i + " fails"));
        } else {
          assertEquals(expected++, f.get(), "unit " + i + " chains on from the last unit that stayed");
        }
      }
      long records = 0;
      String prev = org.keyarc.ca.audit.AuditChain.genesis("c1");
      try (Statement s = keep.createStatement(); ResultSet rs = s.executeQuery("SELECT seq, at, actor, action, "
          + "target, detail, prev_hash, hash FROM audit_record WHERE chain = 'c1' ORDER BY seq")) {
        while (rs.next()) {
          records++;
          assertEquals(records, rs.getLong(1), "sequence numbers without a gap");
          assertEquals(prev, rs.getString(7), "record " + records + " links to the one before it");
          assertEquals(org.keyarc.ca.audit.AuditChain.hash(rs.getLong(1), rs.getLong(2), rs.getString(3),
              rs.getString(4), rs.getString(5), rs.getString(6), prev), rs.getString(8));
          prev = rs.getString(8);
        }
      }
      assertEquals(21, records, "the first unit and the 20 of 30 that did not fail");
      try (Statement s = keep.createStatement(); ResultSet rs = s.executeQuery(
          "SELECT seq, hash FROM audit_chain WHERE chain = 'c1'")) {
        assertTrue(rs.next());
        assertEquals(21, rs.getLong(1), "the head row is the last record");
        assertEquals(prev, rs.getString(2));
      }
      keep.commit();
    } finally {
      audited.close();
    }
  }
}
