package org.keyarc.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.cli.CliTestSupport.keyarc;

/** Every command and subcommand answers --help with its usage and exit code 0. */
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
}
