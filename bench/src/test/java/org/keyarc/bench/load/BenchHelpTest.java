package org.keyarc.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.keyarc.cli.Keyarc;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.bench.load.BenchTestSupport.bench;

/**
 * {@code keyarc bench} and each of its subcommands answer --help with their usage, keyarc's exit codes and exit
 * code 0, as the CLI's commands do (CliHelpTest in the CLI module).
 */
class BenchHelpTest {
  static Stream<String> commands() {
    List<String> all = new ArrayList<>(List.of(""));
    collect(new CommandLine(new BenchCommand()), "", all);
    return all.stream();
  }

  private static void collect(CommandLine cl, String prefix, List<String> into) {
    for (var e : cl.getSubcommands().entrySet()) {
      String path = (prefix + " " + e.getKey()).trim();
      into.add(path);
      collect(e.getValue(), path, into);
    }
  }

  @ParameterizedTest
  @MethodSource("commands")
  void helpShowsTheUsage(String command) {
    List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
    args.add("--help");
    BenchTestSupport.Run r = bench(args.toArray(new String[0]));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith(("Usage: keyarc bench " + command).trim()), r.out());
    assertTrue(r.out().contains("\nExit codes:\n") && r.out().matches("(?s).*\\n\\s*53\\s+CA not initialised\\n.*"),
        r.out());
  }

  @Test
  void versionAndUsageErrorsAreKeyarcs() {
    BenchTestSupport.Run v = bench("enroll", "--version");
    assertEquals(0, v.exit(), v.err());
    assertEquals(Keyarc.VERSION, v.out().trim());
    BenchTestSupport.Run none = bench();
    assertEquals(2, none.exit());
    assertTrue(none.err().startsWith("Missing required subcommand"), none.err());
    BenchTestSupport.Run bad = bench("enroll", "--batch", "0", "--cert", "c.crt", "--key", "c.key");
    assertEquals(36, bad.exit(), bad.err());
    assertTrue(bad.err().startsWith("keyarc: error 36 (bad input): "), bad.err());
  }

  /** bench fsync on the module's target folder: the percentiles, the probe file gone after; a bad folder is 36. */
  @Test
  void fsyncMeasuresTheDiskAndLeavesNothing() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(java.nio.file.Files.createDirectories(
        java.nio.file.Path.of("target")), "fsync-");
    BenchTestSupport.Run r = bench("fsync", "--dir", dir.toString(), "--count", "20", "--rate", "1000");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().matches("(?s).*fsync latency p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ "
        + "ms.*"), r.out());
    try (var left = java.nio.file.Files.list(dir)) {
      assertEquals(0, left.count(), "the probe file is removed");
    }
    BenchTestSupport.Run bad = bench("fsync", "--dir", dir.resolve("missing").toString());
    assertEquals(36, bad.exit(), bad.err());
    assertTrue(bad.err().contains("is not a folder"), bad.err());
  }

  /** bench store on an embedded store under target: every figure printed, the store removed after; bad input is 36. */
  @Test
  void storeLoadMeasuresTheGroupCommitAndLeavesNothing() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(java.nio.file.Files.createDirectories(
        java.nio.file.Path.of("target")), "store-");
    BenchTestSupport.Run r = bench("store", "--dir", dir.toString(), "--units", "400", "--rate", "0");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().matches("(?s)store {9}H2 embedded, .*\\nunits {9}200 measured \\(a replay record, a certificate "
        + "row and an audit record each\\), [0-9]+/s\\ncommit thread [0-9.]+ ms CPU per unit\\nthis process  [0-9.]+ ms "
        + "CPU per unit .*\\nunits/commit  [1-9][0-9.]*\\nfile {10}\\+[0-9.]+ KB per unit .*"), r.out());
    try (var left = java.nio.file.Files.list(dir)) {
      assertEquals(0, left.count(), "the store is removed");
    }
    BenchTestSupport.Run bad = bench("store", "--units", "1");
    assertEquals(36, bad.exit(), bad.err());
    assertTrue(bad.err().startsWith("keyarc: error 36 (bad input): --units must be 2 to 10000000"), bad.err());
    BenchTestSupport.Run notPg = bench("store", "--url", "jdbc:h2:mem:x");
    assertEquals(36, notPg.exit(), notPg.err());
  }
}
