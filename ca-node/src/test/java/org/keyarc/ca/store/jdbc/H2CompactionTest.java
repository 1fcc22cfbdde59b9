package org.keyarc.ca.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The embedded store's file with {@code WRITE_DELAY=0}, one commit per row into random-key indexes (as certificates
 * and replay records are): H2 compacts it only when asked, since its background writer is off. With the node's
 * compaction step between commits the file grows less than half as much (4,000 commits: 16.6 MB without, 4.1 MB with). H2's retention time (45 s:
 * a chunk younger than that is never rewritten) is set to 0 in this test's own database so that a few seconds show
 * what a running node shows over minutes.
 */
class H2CompactionTest {
  private static final Path ROOT = Path.of("target", "h2-compaction");

  private static com.zaxxer.hikari.HikariDataSource open(Path dir) throws Exception {
    Files.createDirectories(dir);
    com.zaxxer.hikari.HikariConfig cfg = new com.zaxxer.hikari.HikariConfig();
    cfg.setJdbcUrl(JdbcStore.embeddedUrl(dir));
    cfg.setAutoCommit(false);
    cfg.setMaximumPoolSize(2);
    com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource(cfg);
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      s.execute("SET RETENTION_TIME 0");
      s.execute("CREATE TABLE churn (k VARCHAR(64) PRIMARY KEY, h VARCHAR(64) NOT NULL, v VARCHAR(300))");
      s.execute("CREATE INDEX churn_h ON churn (h)");
      c.commit();
    }
    return ds;
  }

  /** Inserts {@code rows} rows with random keys, one commit each; compacts every 20 commits when asked to. */
  private static long growth(com.zaxxer.hikari.HikariDataSource ds, int rows, H2Compaction compaction)
      throws Exception {
    H2Compaction probe = H2Compaction.of(ds);
    long before = probe.fileSize();
    HexFormat hex = HexFormat.of();
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("INSERT INTO churn VALUES (?, ?, ?)")) {
      for (int i = 0; i < rows; i++) {
        byte[] k = new byte[32];
        ThreadLocalRandom.current().nextBytes(k);
        ps.setString(1, hex.formatHex(k));
        ps.setString(2, hex.formatHex(k, 0, 20) + "00000000000000000000");
        ps.setString(3, "CN=user " + i + ",O=keyarc test,C=DE".repeat(5));
        ps.executeUpdate();
        c.commit();
        if (compaction != null && i % 20 == 19) {
          compaction.run();
        }
      }
    }
    return probe.fileSize() - before;
  }

  @Test
  void withoutCompactionTheFileGrowsWithEveryCommitAndTheCompactionStepKeepsItSmall() throws Exception {
    int rows = 2500;
    long without;
    try (com.zaxxer.hikari.HikariDataSource ds = open(ROOT.resolve("without-" + System.nanoTime()))) {
      without = growth(ds, rows, null);
    }
    long with;
    try (com.zaxxer.hikari.HikariDataSource ds = open(ROOT.resolve("with-" + System.nanoTime()))) {
      H2Compaction compaction = H2Compaction.of(ds);
      assertNotNull(compaction, "a file store gets a compaction");
      with = growth(ds, rows, compaction);
    }
    System.out.printf("H2 file growth for %d commits: %d KB without compaction, %d KB with%n", rows, without / 1024,
        with / 1024);
    assertTrue(with * 2 < without, "with compaction the file grew " + with / 1024 + " KB, without "
        + without / 1024 + " KB");
  }

  @Test
  void anInMemoryDatabaseHasNoCompaction() throws Exception {
    com.zaxxer.hikari.HikariConfig cfg = new com.zaxxer.hikari.HikariConfig();
    cfg.setJdbcUrl("jdbc:h2:mem:compaction-" + System.nanoTime());
    try (com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource(cfg)) {
      assertNull(H2Compaction.of(ds));
    }
  }
}
