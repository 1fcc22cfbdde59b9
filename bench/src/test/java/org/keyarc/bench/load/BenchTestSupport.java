package org.keyarc.bench.load;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.keyarc.cli.Keyarc;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Running {@code keyarc} and {@code keyarc bench} in-process in tests and reading their output (the few helpers of
 * the CLI's CliTestSupport that the bench's tests need).
 */
final class BenchTestSupport {
  private BenchTestSupport() {}

  /** What a user would see: the exit code, standard output and standard error. */
  record Run(int exit, String out, String err) {}

  /** {@code keyarc ARGS} (the CLI module's commands). */
  static Run keyarc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Keyarc.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** {@code keyarc bench ARGS}, as ./keyarc runs it. */
  static Run bench(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = BenchCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** The value after a label at the start of an output line ("reference  7add..."). */
  static String field(String out, String name) {
    Matcher m = Pattern.compile("(?m)^\\s*" + name + "\\s+(\\S+)").matcher(out);
    assertTrue(m.find(), name + " in: " + out);
    return m.group(1);
  }
}
