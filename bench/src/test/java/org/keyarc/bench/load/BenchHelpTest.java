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
    // the code column's width is picocli's (from the longest code), not part of the contract
    assertTrue(r.out().contains("\nExit codes:\n")
        && java.util.regex.Pattern.compile("\n\\s+53\\s+CA not initialised\n").matcher(r.out()).find(), r.out());
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
}
