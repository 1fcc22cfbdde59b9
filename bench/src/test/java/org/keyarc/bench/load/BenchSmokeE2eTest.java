package org.keyarc.bench.load;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.keyarc.bench.load.BenchTestSupport.Run;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.bench.load.BenchTestSupport.bench;
import static org.keyarc.bench.load.BenchTestSupport.field;
import static org.keyarc.bench.load.BenchTestSupport.keyarc;

/**
 * A few seconds of {@code keyarc bench enroll} on both transports and a short {@code keyarc bench hostile}, so that
 * the load generators cannot rot.
 */
class BenchSmokeE2eTest {
  @Test
  void loadGeneratorRunsOnBothTransports() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("ca")) {
      Files.createDirectories(Path.of("target"));
      Path home = Files.createTempDirectory(Path.of("target"), "bench-home-").toAbsolutePath();
      System.setProperty("keyarc.home", home.toString());
      try {
        Path config = home.resolve("ca.yaml");
        Files.writeString(config, String.join("\n", "dataDir: " + home.resolve("data"), "hsm:",
            "  module: " + SoftHsmFixture.library(), "  token: " + hsm.label("ca"), "  pinFile: " + hsm.pinFile("ca"),
            "binary:", "  port: 0", "http:", "  port: 0", ""));
        Run init = keyarc("ca", "init", "--config", config.toString(), "--admin", "CN=Bench");
        assertEquals(0, init.exit(), init.err());
        try (CaNode node = CaNode.start(NodeConfig.load(config))) {
          String url = "tls://127.0.0.1:" + node.binaryPort();
          Path secret = home.resolve("bench.secret");
          Files.writeString(secret, field(init.out(), "secret") + "\n");
          assertEquals(0, keyarc("enroll", "--node", url, "--ref", field(init.out(), "reference"), "--secret-file",
              secret.toString(), "--out-key", home.resolve("b.key").toString(), "--out-cert",
              home.resolve("b.crt").toString()).exit());
          for (String target : new String[] {url, "http://127.0.0.1:" + node.httpPort() + "/"}) {
            Run r = bench("enroll", "--node", target, "--cert", home.resolve("b.crt").toString(), "--key",
                home.resolve("b.key").toString(), "--duration", "2", "--requests", "300", "--connections", "2",
                "--in-flight", "4", "--warmup", "1");
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("warming up    1 s"), r.out());
            assertTrue(r.out().matches("(?s).*certificates  \\d+ in [0-9.]+ s = \\d+/s.*latency       p50 .*"),
                r.out());
            assertTrue(r.out().contains("errors        none"), r.out());
          }
          Run withCeiling = bench("enroll", "--node", url, "--cert", home.resolve("b.crt").toString(),
              "--key", home.resolve("b.key").toString(), "--duration", "1", "--requests", "60", "--warmup", "0", "--ceiling",
              "--module", SoftHsmFixture.library().toString(), "--token", hsm.label("ca"), "--pin-file",
              hsm.pinFile("ca").toString());
          assertEquals(0, withCeiling.exit(), withCeiling.out() + withCeiling.err());
          assertTrue(withCeiling.out().matches("(?s).*ceiling       \\d+ enrollments/s.*ratio         [0-9.]+ .*"),
              withCeiling.out());
          Run few = bench("enroll", "--node", url, "--cert", home.resolve("b.crt").toString(), "--key",
              home.resolve("b.key").toString(), "--duration", "5", "--requests", "10", "--warmup", "0", "--batch", "4");
          assertEquals(0, few.exit(), few.out() + few.err());
          assertTrue(few.out().contains("preparing     10 requests (4 certificates each"), few.out());
          assertTrue(few.out().contains("certificates  40 in"), few.out());
          assertTrue(few.out().contains("errors        none"), few.out());
          assertTrue(few.out().contains("the prepared requests ran out before the time was up"), few.out());
          Run open = bench("enroll", "--node", url, "--cert", home.resolve("b.crt").toString(), "--key",
              home.resolve("b.key").toString(), "--duration", "2", "--requests", "100", "--rate", "40", "--warmup", "0");
          assertEquals(0, open.exit(), open.out() + open.err());
          assertTrue(open.out().contains("open loop at 40/s"), open.out());

          // the fuzz campaign's hostile classes: each refused with its own code (the node runs in this JVM)
          Run hostile = bench("hostile", "--node", url, "--cert", home.resolve("b.crt").toString(), "--key",
              home.resolve("b.key").toString(), "--count", "2", "--node-pid", Long.toString(ProcessHandle.current()
              .pid()));
          assertEquals(0, hostile.exit(), hostile.out() + hostile.err());
          for (String[] line : new String[][] {{"baseline: genm caCerts", "body 22"},
              {"genm asking 83,333 times for caCerts", "error 31 (bad message)"},
              {"10,000 nested indefinite-length SEQUENCEs", "error 31 (bad message)"},
              {"PBMAC1 with PBKDF2 keyLength 2^20", "error 35 (bad message check)"},
              {"pvno 2^80", "error 31 (bad message)"}, {"transactionID of 33 bytes", "error 31 (bad message)"},
              {"cr, RSA-16384 key", "error 38 (key not allowed)"},
              {"cr, RSA-2048 key, 4,000,000-bit exponent", "error 38 (key not allowed)"}}) {
            assertTrue(hostile.out().lines().anyMatch(l -> l.startsWith(line[0]) && l.contains(line[1])
                && l.matches(".* ms +[0-9.]+ ms +[0-9.]+$")), line[0] + " answered " + line[1] + ": " + hostile.out());
          }
        }
      } finally {
        System.clearProperty("keyarc.home");
      }
    }
  }
}
