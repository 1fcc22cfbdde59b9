package org.keyarc.ca.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * A store error's message reaches the client (CMP failure text, the CLI's one line): it must not name the node's
 * files, nor quote a row's values or the SQL, whatever the database says. Real H2 errors, from a real database.
 */
class StoreExceptionTest {
  @Test
  void anUnopenableH2DatabaseIsReportedWithoutItsPath() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "store-exception-" + System.nanoTime())).toAbsolutePath();
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
    SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:h2:file:"
        + notADirectory.resolve("keyarc")).close());
    String raw = StoreException.rootMessage(new SQLException("x", e)) + " / " + e.getMessage();
    assertTrue(e.getMessage().contains(dir.toString()), "H2 names the file: " + e.getMessage());
    String shown = StoreException.of(e).getMessage();
    assertFalse(shown.contains(dir.toString()) || shown.contains("/target/"), shown);
    assertTrue(shown.startsWith("store error: "), shown + " from " + raw);
  }

  @Test
  void aConstraintViolationIsReportedWithoutTheRowOrTheStatement() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:store-exception-" + System.nanoTime());
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE secret (reference VARCHAR(64) PRIMARY KEY, hash VARCHAR(64))");
      s.execute("INSERT INTO secret VALUES ('ref-1', 'c0ffee-secret-hash')");
      SQLException dup = assertThrows(SQLException.class,
          () -> s.execute("INSERT INTO secret VALUES ('ref-1', 'c0ffee-secret-hash')"));
      assertTrue(dup.getMessage().contains("ref-1"), dup.getMessage());
      String shown = StoreException.of(dup).getMessage();
      assertFalse(shown.contains("ref-1") || shown.contains("c0ffee") || shown.contains("INSERT"), shown);
      assertTrue(shown.contains("Unique index or primary key violation"), shown);
      assertTrue(StoreException.of(dup).isConstraintViolation());
    }
  }

  @Test
  void plainMessagesAndUrlsAreKept() {
    assertEquals("No space left on device", StoreException.scrub("No space left on device"));
    assertEquals("Connection to tcp://db.example:5432/keyarc refused, and/or closed",
        StoreException.scrub("Connection to tcp://db.example:5432/keyarc refused, and/or closed"));
    assertEquals("File corrupted while reading record: \"<file>\"",
        StoreException.scrub("File corrupted while reading record: \"/var/lib/keyarc/store.mv.db\""));
  }

  @Test
  void pathsAfterASchemeAndRelativePathsAreScrubbed() {
    assertEquals("cannot open jdbc:h2:<file>: locked", StoreException.scrub("cannot open jdbc:h2:/var/lib/keyarc/store: "
        + "locked"));
    assertEquals("file:<file> is read-only", StoreException.scrub("file:/srv/keyarc/data/store.mv.db is read-only"));
    assertEquals("Database <file> not found", StoreException.scrub("Database data/store/keyarc not found"));
    assertEquals("Database \"<file>\" is locked", StoreException.scrub("Database \"data/keyarc.mv.db\" is locked"));
    assertEquals("<file> missing", StoreException.scrub("./keyarc.mv.db missing"));
    assertEquals("<file>, locked", StoreException.scrub("C:\\keyarc\\data\\store.mv.db, locked"));
    assertEquals("a TCP/IP error, and/or a timeout", StoreException.scrub("a TCP/IP error, and/or a timeout"));
  }

  @Test
  void aLockTimeoutDoesNotQuoteTheLockedRow() {
    String h2 = "Map entry <table.39> with key <1> and value ( /* key:1 */ 'main', CAST(15 AS BIGINT), 'c2e26b54') "
        + "/var/lib/keyarc/x ( /* key:1 */ 'main', CAST(15 AS BIGINT), 'c2e26b54') is locked by tx 1 and can not be "
        + "updated by tx 2 within allocated time interval 2000 ms. [2.5.252/101]";
    String shown = StoreException.scrub(h2);
    assertEquals("a row is locked by tx 1 and can not be updated by tx 2 within allocated time interval 2000 ms. "
        + "[2.5.252/101]", shown);
  }
}
