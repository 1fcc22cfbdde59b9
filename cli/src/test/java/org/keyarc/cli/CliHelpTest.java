package org.keyarc.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;

/**
 * Every command and subcommand of the CLI answers --help with its usage and exit code 0. {@code keyarc bench} is
 * the bench module's (BenchHelpTest there); the root's help points to it.
 */
class CliHelpTest {
  static Stream<String> commands() {
    List<String> all = new ArrayList<>();
    collect(new CommandLine(new Keyarc()), "", all);
    return all.stream();
  }

  private static void collect(CommandLine cl, String prefix, List<String> into) {
    for (var e : cl.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      String path = (prefix + " " + e.getKey()).trim();
      into.add(path);
      collect(e.getValue(), path, into);
    }
  }

  @ParameterizedTest
  @MethodSource("commands")
  void helpShowsTheUsage(String command) {
    List<String> args = new ArrayList<>(List.of(command.split(" ")));
    args.add("--help");
    CliTestSupport.Run r = keyarc(args.toArray(new String[0]));
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("Usage: keyarc " + command), r.out());
  }

  @Test
  void rootHelpListsEveryCommandThenPointsToBench() {
    CliTestSupport.Run r = keyarc("--help");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().startsWith("Usage: keyarc [-hV] [COMMAND]"), r.out());
    commands().filter(c -> !c.contains(" ")).forEach(c -> assertTrue(r.out().contains("\n  " + c + " "), c));
    int commands = r.out().indexOf("\nCommands:\n");
    int bench = r.out().indexOf("\n  bench       Load generators");
    int exitCodes = r.out().indexOf("\nExit codes:\n");
    assertTrue(commands > 0 && commands < bench && bench < exitCodes, r.out());
    assertFalse(new CommandLine(new Keyarc()).getSubcommands().containsKey("bench"), "bench is the bench module's");
    CliTestSupport.Run sub = keyarc("ca", "--help");
    assertFalse(sub.out().contains("bench"), "the pointer to bench is in the root's help only: " + sub.out());
  }
}
