package org.keyarc.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * {@code keyarc}: the root command.
 *
 * <p>Exit codes: 0 success; 1 unexpected failure; 2 usage error; otherwise the number of the
 * {@link ErrorCode} (10 token not present, 11 PIN incorrect, ...; {@code keyarc --help} lists them).
 *
 * <p>{@code keyarc bench} (the load generators) is not one of these commands: it lives in the bench module, which
 * depends on this one, and runs through {@link #run(CommandLine, PrintWriter, PrintWriter, String...)} with the
 * same version, exit codes and error handling; {@code ./keyarc bench ...} starts it.
 */
@Command(name = "keyarc", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    version = Keyarc.VERSION,
    description = "HSM-backed certificate authority with M-of-N key archival and smartcard recovery.",
    subcommands = {HsmCommand.class, CaCommand.class, EnrollCommand.class, SecretCommand.class, RequestCommand.class,
        CertCommand.class, CrlCommand.class, RoleCommand.class, TemplateCommand.class, AuditCommand.class, KraCommand.class, GetKeyCommand.class, ArchiveCommand.class, PfxCommand.class,
        RecoverKeyCommand.class, RecoveryCommand.class, AgentCommand.class, DemoCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n")
public final class Keyarc {
  /** What {@code --version} prints, here and in {@code keyarc bench}. */
  public static final String VERSION = "keyarc 0.1.0";

  /** The key of the help section that points to {@code keyarc bench}, after the list of commands. */
  static final String SECTION_KEY_BENCH = "keyarcBench";

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs a command line with the given streams; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Keyarc());
    UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    Map<String, CommandLine.IHelpSectionRenderer> sections = new LinkedHashMap<>(usage.sectionMap());
    sections.put(SECTION_KEY_BENCH, help -> String.format("%nIn the bench module (./keyarc builds it when first "
        + "used):%n  bench       Load generators: keyarc bench enroll, the enrollment load%n"
        + "                generator (keyarc bench --help).%n"));
    List<String> keys = new ArrayList<>(usage.sectionKeys());
    keys.add(keys.indexOf(UsageMessageSpec.SECTION_KEY_COMMAND_LIST) + 1, SECTION_KEY_BENCH);
    usage.sectionMap(sections);
    usage.sectionKeys(keys);
    return run(cl, out, err, args);
  }

  /**
   * Runs {@code cl} as keyarc runs its commands: keyarc's error-to-exit-code mapping, and keyarc's list of exit
   * codes in the help of every command that has none of its own. For the root above and for command lines
   * outside this module ({@code keyarc bench}, whose root is named "keyarc bench"); returns the exit code.
   */
  public static int run(CommandLine cl, PrintWriter out, PrintWriter err, String... args) {
    withExitCodes(cl);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((ex, line, parsed) -> {
      if (ex instanceof HsmException h) {
        ErrorCode code = ErrorCode.of(h.reason());
        err.println("keyarc: error " + code.number() + " (" + code.summary() + "): " + h.getMessage());
        return code.number();
      }
      if (ex instanceof org.keyarc.protocol.KeyarcException k) {
        return fail(err, k.code(), k.getMessage());
      }
      err.println("keyarc: unexpected failure: " + ex);
      org.slf4j.LoggerFactory.getLogger(Keyarc.class).debug("unexpected failure", ex);
      return 1;
    });
    return cl.execute(args);
  }

  /** The documented exit codes: 0, 1, 2 and every {@link ErrorCode}, listed from the enum so none is left out. */
  static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put("0", "success");
    codes.put("1", "unexpected failure (details in the log)");
    codes.put("2", "usage error");
    for (ErrorCode c : ErrorCode.values()) {
      codes.put(String.valueOf(c.number()), c.summary());
    }
    return codes;
  }

  /** Keyarc's exit code list for every command of {@code cl} without one of its own. */
  private static void withExitCodes(CommandLine cl) {
    UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    if (usage.exitCodeList().isEmpty()) {
      usage.exitCodeListHeading("%nExit codes:%n").exitCodeList(exitCodes());
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      withExitCodes(sub);
    }
  }

  private static int fail(PrintWriter err, ErrorCode code, String message) {
    err.println("keyarc: error " + code.number() + " (" + code.summary() + "): " + message);
    return code.number();
  }

  /** A user mistake with its error code; printed as one line, no stack trace. */
  public static final class UserException extends org.keyarc.protocol.KeyarcException {
    private static final long serialVersionUID = 1L;

    public UserException(ErrorCode code, String message) {
      super(code, message);
    }
  }
}
