package org.keyarc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Running {@code keyarc} in-process in tests and reading its output. */
final class CliTestSupport {
  private CliTestSupport() {}

  /**
   * A new KEYARC_HOME under target/ (its name starting with {@code prefix}), set as {@code keyarc.home}, holding
   * {@code ca.yaml} for a node on {@code hsm}'s "ca" token with its data in {@code data/} and any free ports; returns
   * the configuration's path (its folder is the home).
   */
  static java.nio.file.Path caHome(org.keyarc.hsm.testing.SoftHsmFixture hsm, String prefix, String subject)
      throws java.io.IOException {
    java.nio.file.Files.createDirectories(java.nio.file.Path.of("target"));
    java.nio.file.Path home = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("target"), prefix)
        .toAbsolutePath();
    System.setProperty("keyarc.home", home.toString());
    java.nio.file.Path config = home.resolve("ca.yaml");
    java.nio.file.Files.writeString(config, String.join("\n", "dataDir: " + home.resolve("data"), "hsm:",
        "  module: " + org.keyarc.hsm.testing.SoftHsmFixture.library(), "  token: " + hsm.label("ca"),
        "  pinFile: " + hsm.pinFile("ca"), "binary:", "  port: 0", "http:", "  port: 0", "ca:", "  subject: " + subject,
        ""));
    return config;
  }

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
