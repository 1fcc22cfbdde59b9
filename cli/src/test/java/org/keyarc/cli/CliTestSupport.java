package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running {@code keyarc} in-process in tests and reading its output. */
final class CliTestSupport {
  private CliTestSupport() {}

  /** What a user would see: the exit code, standard output and standard error. */
  record Run(int exit, String out, String err) {}

  static Run keyarc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Keyarc.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** The value after a label at the start of an output line ("reference  7add..."). */
  static String field(String out, String name) {
    Matcher m = Pattern.compile("(?m)^\\s*" + name + "\\s+(\\S+)").matcher(out);
    assertTrue(m.find(), name + " in: " + out);
    return m.group(1);
  }
}
