package org.keyarc.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.jdbc.JdbcStore;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * {@code keyarc ca compact} as an operator meets it: the embedded store's file, grown by a run of small commits as a
 * node under load grows it, is refused while a node (its own process) holds it and left as it was; with the node
 * stopped it shrinks to its live data, stays 0600, and holds every record it held (the audit chain verifies, every
 * replay record is still there). A node on PostgreSQL is told where its space is reclaimed.
 */
class StoreCompactE2eTest {
  static SoftHsmFixture hsm;
  static Path home;
  static Path config;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("ca");
    config = CliTestSupport.caHome(hsm, "compact-home-", "CN=Compact Test CA, O=keyarc");
    home = config.getParent();
    Run init = keyarc("ca", "init", "--config", config.toString(), "--admin", "CN=Cleo Admin");
    assertEquals(0, init.exit(), init.err());
  }

  @AfterAll
  static void tearDown() throws Exception {
    System.clearProperty("h2.maxCompactTime");
    hsm.close();
    System.clearProperty("keyarc.home");
  }

  @Test
  void theFileShrinksToItsLiveDataOnlyWithTheNodeStopped() throws Exception {
    Path data = home.resolve("data");
    Path file = data.resolve("keyarc.mv.db");
    // a node alone with its store, and one that serves it to local commands (store.localServer: H2's automatic
    // server): neither is shut down, and the file is left as it was
    Path served = home.resolve("served.yaml");
    Files.writeString(served, Files.readString(config) + "store:\n  localServer: true\n");
    for (Path cfg : new Path[] {config, served}) {
      try (NodeProcess node = NodeProcess.serve(home, cfg)) {
        long held = Files.size(file);
        Run refused = keyarc("ca", "compact", "--config", cfg.toString());
        assertEquals(50, refused.exit(), cfg + ": " + refused.out() + refused.err());
        assertEquals("keyarc: error 50 (store error): the embedded store in " + data
            + " is held by a running CA node: stop the node, then compact\n", refused.err());
        assertEquals(held, Files.size(file), "a refused compaction leaves the file as it was");
        assertTrue(node.process.isAlive(), cfg + ": the node runs on");
        if (cfg == served) {
          assertLoopbackOnly(data.resolve("keyarc.lock.db"));
          Run info = keyarc("ca", "info", "--config", cfg.toString());
          assertEquals(0, info.exit(), "the node still serves its store to local commands: " + info.err());
        }
        node.stop();
      }
    }

    // the file as a node leaves it after a long run: H2 compacts at close for at most 200 ms (MAX_COMPACT_TIME), which
    // a file of gigabytes outlasts; in this JVM that compaction is off, so that 1,500 commits show the same
    System.setProperty("h2.maxCompactTime", "0");
    int units = 1_500;
    char[] password = Files.readString(data.resolve(JdbcStore.PASSWORD_FILE)).trim().toCharArray();
    var settings = NodeConfig.load(config).settings();
    try (JdbcStore store = JdbcStore.open(JdbcStore.embeddedUrl(data), settings.store().user(), password, 2)) {
      store.useAuditChain(settings.audit().chain());
      Instant now = Instant.now();
      for (int i = 0; i < units; i++) { // one commit each, as issuances arrive one by one at a node under load
        String tx = "compact-" + i;
        store.inGroupTransaction(t -> {
          t.nonces().remember(tx, "nonce-" + tx, now, now);
          t.audit().append("CN=Cleo Admin", "TEST", tx, "a unit of work", now);
          return null;
        });
      }
    }
    long grown = Files.size(file);
    assertTrue(grown > 20L * 1024 * 1024, "1,500 commits grew the file (" + grown + " bytes)");
    Run info = keyarc("ca", "info", "--config", config.toString());
    assertEquals(0, info.exit(), info.err());
    assertTrue(Files.size(file) * 10 > grown * 9, "opening and closing the store does not shrink it: " + grown + " -> "
        + Files.size(file) + " bytes");

    // what ca serve refuses, compact refuses: a data folder others may enter; and a file another user owns (the node's
    // user could not open the copy made by this one)
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Run open = keyarc("ca", "compact", "--config", config.toString());
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    assertEquals(52, open.exit(), open.err());
    assertTrue(open.err().startsWith("keyarc: error 52 (configuration invalid): the data folder (dataDir) " + data
        + " can be used by other users (mode rwxr-xr-x)"), open.err());
    if ("root".equals(System.getProperty("user.name"))) { // only root can give the file away
      var me = Files.getOwner(file);
      Files.setOwner(file, file.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
      Run other = keyarc("ca", "compact", "--config", config.toString());
      Files.setOwner(file, me);
      assertEquals(50, other.exit(), other.err());
      assertTrue(other.err().contains("keyarc.mv.db belongs to nobody, not to root; run it as nobody, the user the "
          + "node runs as"), other.err());
    }
    assertTrue(Files.size(file) > 20L * 1024 * 1024, "the refusals left the file as it was");

    long before = Files.size(file);
    Run compact = keyarc("ca", "compact", "--config", config.toString());
    assertEquals(0, compact.exit(), compact.err());
    long after = Files.size(file);
    System.out.println("ca compact: " + before + " -> " + after + " bytes");
    assertTrue(after * 5 < before, "the file shrank to its live data: " + before + " -> " + after + " bytes");
    assertEquals("compacted " + file + ": " + String.format("%,d KB -> %,d KB", before / 1024, after / 1024) + "\n",
        compact.out());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

    Run verify = keyarc("audit", "verify", "--config", config.toString());
    assertEquals(0, verify.exit(), verify.out() + verify.err());
    Matcher m = Pattern.compile("(\\d+) records in 1 chain").matcher(verify.out());
    assertTrue(m.find() && Long.parseLong(m.group(1)) > units, "every audit record is still there: " + verify.out());
    try (Store store = CaNode.openStore(NodeConfig.load(config))) {
      int seen = store.inTransaction(t -> {
        int n = 0;
        for (int i = 0; i < units; i++) {
          n += t.nonces().seen("compact-" + i, "nonce-compact-" + i) ? 1 : 0;
        }
        return n;
      });
      assertEquals(units, seen, "every replay record is still there");
    }
    info = keyarc("ca", "info", "--config", config.toString());
    assertEquals(0, info.exit(), "the node's own commands open the compacted store: " + info.err());
  }

  @Test
  void aStoreOnPostgresqlIsNotCompactedHere() throws Exception {
    Path pg = home.resolve("pg.yaml");
    Files.writeString(pg, Files.readString(config) + "store:\n  url: jdbc:postgresql://127.0.0.1:1/keyarc\n");
    Run r = keyarc("ca", "compact", "--config", pg.toString());
    assertEquals(30, r.exit(), r.err());
    assertEquals("keyarc: error 30 (bad request): ca compact is for the embedded store; this node's store is store.url "
        + "(PostgreSQL reclaims space with VACUUM)\n", r.err());
  }

  /** H2's server for local commands (its port in the lock file) answers on 127.0.0.1 and on no other address. */
  private static void assertLoopbackOnly(Path lockFile) throws Exception {
    String lock = Files.readString(lockFile);
    Matcher m = Pattern.compile("server=[^\\n]*?(\\d+)\\s*\\n").matcher(lock);
    assertTrue(m.find(), "the lock file names H2's server: " + lock);
    int port = Integer.parseInt(m.group(1));
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      assertTrue(s.isConnected());
    }
    int tried = 0;
    for (var nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (var a : java.util.Collections.list(nif.getInetAddresses())) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress()) {
          continue;
        }
        tried++;
        try (java.net.Socket s = new java.net.Socket()) {
          s.connect(new java.net.InetSocketAddress(a, port), 2000);
          throw new AssertionError("H2's server answers on " + a.getHostAddress() + ":" + port + ", not only on the "
              + "loopback interface");
        } catch (java.io.IOException expected) {
          // refused: it listens on the loopback interface only
        }
      }
    }
    System.out.println("H2's local server: port " + port + " refused on " + tried + " other address(es)");
  }
}
