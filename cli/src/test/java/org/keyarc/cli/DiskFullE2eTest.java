package org.keyarc.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.AuditStore;
import org.keyarc.cli.CliTestSupport.Run;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.field;
import static org.keyarc.cli.CliTestSupport.keyarc;

/**
 * Issue 14, finding 10, on a real full disk: {@code ca serve} runs with its data folder on a 4 MiB tmpfs of its
 * own (a private mount namespace, {@code unshare -rm}, so no root mount is touched and the tmpfs ends with the
 * node), and the test fills that tmpfs through {@code /proc/PID/root}. While it is full, enrollments are refused
 * with error 50 and nothing of them is kept (their one-time secrets still work afterwards), {@code /health} says
 * not ready, and refusals are still audited; once space is freed the node recovers by itself — no restart — and
 * says so in its log; after SIGTERM the audit chain is whole and covered by the last checkpoint.
 */
class DiskFullE2eTest {
  private static final int USERS = 6;
  private static final int WRONG = 3;
  static SoftHsmFixture hsm;
  static Path home;
  static Path config;
  static Path data;

  @BeforeAll
  static void setUp() throws Exception {
    Assumptions.assumeTrue(privateMountsWork(), "this machine cannot make a private mount namespace with a tmpfs "
        + "(unshare -rm); the disk-full test needs one");
    hsm = SoftHsmFixture.create("ca");
    Files.createDirectories(Path.of("target"));
    home = Files.createTempDirectory(Path.of("target"), "disk-full-").toAbsolutePath();
    System.setProperty("keyarc.home", home.toString());
    data = home.resolve("data");
    config = home.resolve("ca.yaml");
    Files.writeString(config, String.join("\n", "dataDir: " + data, "hsm:", "  module: " + SoftHsmFixture.library(),
        "  token: " + hsm.label("ca"), "  pinFile: " + hsm.pinFile("ca"), "binary:", "  port: 0", "http:",
        "  port: 0", "ca:", "  subject: CN=Disk Full Test CA, O=keyarc", "timers:", "  auditCheckpointSeconds: 1",
        ""));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (hsm != null) {
      hsm.close();
    }
    System.clearProperty("keyarc.home");
  }

  private static boolean privateMountsWork() {
    try {
      Process p = new ProcessBuilder("unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt")
          .redirectErrorStream(true).start();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Test
  void aFullDiskRefusesCleanlyLosesNothingAndTheNodeRecoversByItself() throws Exception {
    Run init = keyarc("ca", "init", "--config", config.toString(), "--admin", "CN=Dora Admin");
    assertEquals(0, init.exit(), init.err());
    // the store moves onto the node's own tmpfs; on exit it is copied back for the checks after the stop
    Files.move(data, home.resolve("data.seed"));
    Files.createDirectories(data);
    Files.createDirectories(home.resolve("data.after"));
    String script = "d=\"$1\"; shift; mount -t tmpfs -o size=4m tmpfs \"$d\" && cp -a \"$d.seed/.\" \"$d/\" || exit 97; "
        + "\"$@\"; rc=$?; cp -a \"$d/.\" \"$d.after/\"; exit $rc";
    List<String> out = new ArrayList<>();
    try (NodeProcess node = NodeProcess.serve(home, config, "unshare", "-rm", "sh", "-c", script, "sh",
        data.toString())) {
      String tls = "tls://127.0.0.1:" + node.port("binary CMP");
      int http = node.port("HTTP CMP");
      assertEquals("200 ok", health(http));
      String[] dora = enroll(tls, "dora", field(init.out(), "reference"), field(init.out(), "secret"));
      assertEquals(0, Integer.parseInt(dora[2]), dora[3]);
      String[] asDora = {"--node", tls, "--cert", dora[0], "--key", dora[1]};
      String[][] secrets = new String[USERS][];
      for (int i = 0; i < USERS; i++) {
        Run s = keyarc(CaCliE2eTest.concat(new String[] {"secret", "create", "--template", "User", "--subject",
            "CN=User " + i}, asDora));
        assertEquals(0, s.exit(), s.err());
        secrets[i] = new String[] {field(s.out(), "reference"), field(s.out(), "secret")};
      }

      Path inside = Path.of("/proc", Long.toString(jvm(node)), "root").resolve(data.toString().substring(1));
      assertTrue(Files.isDirectory(inside), "the node's tmpfs, seen through /proc: " + inside);
      List<Path> ballast = new ArrayList<>();
      fill(inside, ballast);

      // full: each enrollment is refused as a store error, or (while the database still has room in its own file)
      // issued; never anything in between
      boolean[] refused = new boolean[USERS];
      int refusals = 0;
      for (int i = 0; i < USERS; i++) {
        String[] r = enroll(tls, "user" + i, secrets[i][0], secrets[i][1]);
        int exit = Integer.parseInt(r[2]);
        assertTrue(exit == 0 || exit == 50, "user " + i + ": " + r[3]);
        if (exit == 50) {
          assertTrue(r[3].contains("error 50 (store error)") && r[3].contains("No space left on device"), r[3]);
          assertTrue(!Files.exists(Path.of(r[0])) && !Files.exists(Path.of(r[1])), "nothing left behind: " + r[3]);
          refused[i] = true;
          refusals++;
        }
        fill(inside, ballast); // what the database gave back while reopening is taken again
      }
      assertTrue(refusals > 0, "the full disk refused at least one enrollment");
      for (int i = 0; i < WRONG; i++) {
        String[] r = enroll(tls, "wrong" + i, "no-such-ref-" + i, "not-the-secret");
        int exit = Integer.parseInt(r[2]);
        // the reference cannot even be looked up while the database cannot open: refused as a store error
        assertTrue(exit == 39 || exit == 50, "a wrong secret is refused, or the store error said: " + r[3]);
      }
      String notReady = awaitHealth(http, h -> h.startsWith("503"));
      assertTrue(notReady.startsWith("503 not ready: "), notReady);

      // space comes back: the node recovers without a restart
      for (Path b : ballast) {
        Files.delete(b);
      }
      assertEquals("200 ok", awaitHealth(http, h -> h.startsWith("200")), node.output());
      for (int i = 0; i < USERS; i++) {
        if (refused[i]) {
          String[] r = enroll(tls, "again" + i, secrets[i][0], secrets[i][1]);
          assertEquals(0, Integer.parseInt(r[2]), "the refused enrollment's secret was not used: " + r[3]);
        }
      }
      String log = node.output();
      assertTrue(log.contains("StoreHealing - the store failed: No space left on device"), log);
      assertTrue(log.contains("StoreHealing - the store answers again"), log);
      assertTrue(!log.contains("\tat org."), "no stack trace in the node's log: " + log);
      node.stop();
      out.add(node.output());
    }

    // the store as the node left it
    try (Stream<Path> files = Files.list(home.resolve("data.after"))) {
      for (Path f : files.toList()) {
        Files.copy(f, data.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Run verify = keyarc("audit", "verify", "--config", config.toString());
    assertEquals(0, verify.exit(), verify.out() + verify.err() + out);
    assertTrue(verify.out().matches("(?s).*\\d+ records in 1 chain, \\d+ signed checkpoints?, every record under "
        + "one.*"), "the last checkpoint covers every record: " + verify.out());
    Path exported = data.resolve("audit-checkpoints.jsonl");
    Run anchored = keyarc("audit", "verify", "--config", config.toString(), "--anchor", exported.toString());
    assertEquals(0, anchored.exit(), "the export file holds whole lines only, each a checkpoint of this store: "
        + anchored.out() + anchored.err());
    try (CaNode.Resources r = CaNode.open(NodeConfig.load(config))) {
      List<AuditStore.Row> rows = r.store().inTransaction(tx -> tx.audit().records(1, Long.MAX_VALUE));
      List<AuditStore.Row> wrong = rows.stream().filter(x -> x.action().equals("auth.secret.refused")
          && x.target().startsWith("secret:no-such-ref-")).toList();
      assertEquals(WRONG, wrong.size(), "every refusal during the full disk is in the audit log: " + wrong);
      for (AuditStore.Row x : wrong) {
        assertTrue(!x.detail().contains("code=50") || x.detail().contains("(written late: the store failed at "),
            "a refusal the store could not take at the time waited and was written later: " + x);
      }
      long issued = rows.stream().filter(x -> x.action().equals("cert.issue") && x.detail().contains("CN=User ")).count();
      assertEquals(USERS, issued, "each user got exactly one certificate");
    }
  }

  /** The JVM's process id (a child of the namespace's shell). */
  private static long jvm(NodeProcess node) {
    return node.process.descendants().filter(h -> h.info().command().orElse("").endsWith("/java")).findFirst()
        .orElseThrow().pid();
  }

  /** Writes ballast files into {@code dir} until the file system is full. */
  private static void fill(Path dir, List<Path> ballast) throws IOException {
    Path f = dir.resolve("ballast-" + ballast.size());
    ballast.add(f);
    byte[] block = new byte[16 * 1024];
    try (OutputStream o = Files.newOutputStream(f)) {
      while (true) {
        o.write(block);
        o.flush();
      }
    } catch (IOException full) {
      if (full.getMessage() == null || !full.getMessage().contains("No space left")) {
        throw full;
      }
    }
  }

  /** {cert, key, exit, what the user saw} of one {@code keyarc enroll}. */
  private static String[] enroll(String node, String name, String ref, String secret) throws Exception {
    Path s = home.resolve(name + ".secret");
    Files.writeString(s, secret + "\n");
    String cert = home.resolve(name + ".crt").toString();
    String key = home.resolve(name + ".key").toString();
    Run r = keyarc("enroll", "--node", node, "--ref", ref, "--secret-file", s.toString(), "--out-key", key,
        "--out-cert", cert);
    return new String[] {cert, key, Integer.toString(r.exit()), r.err() + r.out()};
  }

  private static String health(int port) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body().strip();
  }

  /** Polls /health for up to 30 s until {@code done} holds; returns the last answer. */
  private static String awaitHealth(int port, java.util.function.Predicate<String> done) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String h = health(port);
    while (!done.test(h) && System.nanoTime() < end) {
      Thread.sleep(200);
      h = health(port);
    }
    return h;
  }
}
