package org.keyarc.ca.store;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.store.jdbc.JdbcStore;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A certificate whose commit returned (and so was acknowledged to a client) survives {@code kill -9}
 * of the process that wrote it: the embedded database does not keep commits in memory.
 */
class KillNineTest {
  @Test
  void acknowledgedCommitsSurviveSigkill() throws Exception {
    Files.createDirectories(Path.of("target"));
    Path dir = Files.createTempDirectory(Path.of("target"), "kill9-");
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), CrashChild.class.getName(), dir.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    long lastAck = 0;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("ack ")) {
          lastAck = Long.parseLong(line.substring(4));
          if (lastAck >= 300) {
            child.destroyForcibly(); // SIGKILL, in the middle of the stream of commits
            break;
          }
        }
      }
    }
    assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    assertTrue(lastAck >= 300, "the child acknowledged " + lastAck + " commits");
    try (Store store = JdbcStore.open(JdbcStore.embeddedUrl(dir), "keyarc", null, 2)) {
      for (long i = 1; i <= lastAck; i++) {
        long n = i;
        assertTrue(store.inTransaction(tx -> tx.certificates().find(StoreContract.ISSUER, BigInteger.valueOf(n)))
            .isPresent(), "acknowledged certificate " + n + " survived");
      }
      AuditChain.Verification v = AuditService.verify(store, Map.of());
      assertTrue(v.ok(), "the audit chain is whole after the crash: " + v.problems());
      assertTrue(v.records() >= lastAck);
    }
  }
}
