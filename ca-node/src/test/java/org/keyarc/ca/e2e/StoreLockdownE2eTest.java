package org.keyarc.ca.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reviewer owned the embedded store as another user: an H2 TCP server on all interfaces, an empty password,
 * files 0644. Tried again: no server, a generated password in a 0600 file, the folder 0700, and a node that
 * refuses to start on files others can read.
 */
class StoreLockdownE2eTest {

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void theEmbeddedStoreIsPrivateAndHasNoServer() throws Exception {
    try (TestCa ca = TestCa.start()) {
      Path data = Path.of(ca.cfg.dataDir);
      assertEquals("rwx------", mode(data));
      assertEquals("rw-------", mode(data.resolve("db.password")));
      assertEquals("rw-------", mode(data.resolve("keyarc.mv.db")));
      assertFalse(Files.exists(data.resolve("keyarc.trace.db")), "no trace file");
      Path lock = data.resolve("keyarc.lock.db");
      if (Files.exists(lock)) {
        assertFalse(Files.readString(lock).contains("server="), "no TCP server advertised in the lock file");
      }
      // the reviewer's way in: user keyarc with an empty password
      SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(
          JdbcStore.embeddedUrl(data), "keyarc", "").close());
      assertTrue(e.getMessage().contains("Wrong user name or password"), e.getMessage());
    }
  }

  @Test
  void theNodeRefusesFilesOthersCanRead() throws Exception {
    TestCa ca = TestCa.start();
    Path data = Path.of(ca.cfg.dataDir);
    ca.node.close();
    ca.node = null;
    try {
      Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
      CaException open = assertThrows(CaException.class, () -> CaNode.start(ca.cfg).close());
      assertEquals(ErrorCode.CONFIG_INVALID, open.code());
      assertTrue(open.getMessage().contains(data.toString()) && open.getMessage().contains("chmod 700"),
          open.getMessage());
      Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
      Path pin = Path.of(ca.cfg.hsm.pinFile);
      String pinMode = mode(pin);
      Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-r--r--"));
      CaException readablePin = assertThrows(CaException.class, () -> CaNode.start(ca.cfg).close());
      assertTrue(readablePin.getMessage().startsWith("hsm.pinFile " + pin), readablePin.getMessage());
      Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString(pinMode));
      ca.node = CaNode.start(ca.cfg);
      assertTrue(ca.node.binaryPort() > 0, "starts once the files are private again");
    } finally {
      ca.close();
    }
  }

  @Test
  void aDatabaseWithoutAPasswordGetsOne() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target"), "legacy-store-");
    try (Store legacy = JdbcStore.open(JdbcStore.embeddedUrl(dir), "keyarc", null, 2)) {
      assertEquals(0, (long) legacy.inTransaction(tx -> tx.certificates().count()));
    }
    assertFalse(Files.exists(dir.resolve("db.password")));
    try (Store locked = JdbcStore.openEmbedded(dir, "keyarc", false, 2)) {
      assertEquals(0, (long) locked.inTransaction(tx -> tx.certificates().count()));
    }
    assertEquals("rw-------", mode(dir.resolve("db.password")));
    assertThrows(SQLException.class, () -> DriverManager.getConnection(JdbcStore.embeddedUrl(dir), "keyarc", "")
        .close(), "the empty password no longer opens it");
  }
}
