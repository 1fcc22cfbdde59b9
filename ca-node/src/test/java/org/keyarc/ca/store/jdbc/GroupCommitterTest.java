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
}
