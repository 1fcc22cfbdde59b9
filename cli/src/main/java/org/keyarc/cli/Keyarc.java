package org.keyarc.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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
        CertCommand.class, CrlCommand.class, RoleCommand.class, AuditCommand.class, KraCommand.class, GetKeyCommand.class,
        RecoverKeyCommand.class, RecoveryCommand.class, AgentCommand.class, DemoCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:success", "1:unexpected failure (details in the log)", "2:usage error",
        "10:token not present", "11:PIN incorrect", "12:PIN locked", "13:PIN required",
        "14:mechanism not supported", "15:key not found", "16:HSM unavailable (PKCS#11 library)",
        "17:key attributes forbid the operation", "18:HSM busy", "19:HSM error",
        "30-48:the CA refused the request (the number is the keyarc error code: 32 bad proof of possession, "
            + "33 unknown template, 34 not authorized, 35 bad MAC or signature, 38 key not allowed, "
            + "39 one-time secret unknown/used/expired, 42 request denied, ...; see README)",
        "50:store error", "51:CA node unreachable", "52:configuration invalid", "53:CA not initialised"})
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
      if (ex instanceof org.keyarc.ca.CaException c) {
        return fail(err, c.code(), c.getMessage());
      }
      if (ex instanceof org.keyarc.protocol.client.CmpClientException c) {
        return fail(err, c.code(), c.getMessage());
      }
      if (ex instanceof org.keyarc.agent.recovery.RecoveryException c) {
        return fail(err, c.code(), c.getMessage());
      }
      if (ex instanceof org.keyarc.ca.config.ConfigException c) {
        return fail(err, ErrorCode.CONFIG_INVALID, c.getMessage());
      }
      if (ex instanceof UserException u) {
        err.println("keyarc: error " + u.code().number() + " (" + u.code().summary() + "): " + u.getMessage());
        return u.code().number();
      }
      err.println("keyarc: unexpected failure: " + ex);
      org.slf4j.LoggerFactory.getLogger(Keyarc.class).debug("unexpected failure", ex);
      return 1;
    });
    return cl.execute(args);
  }

  /** Keyarc's exit code list (the annotation's "code:meaning" lines) for every command of {@code cl} without one. */
  private static void withExitCodes(CommandLine cl) {
    UsageMessageSpec usage = cl.getCommandSpec().usageMessage();
    if (usage.exitCodeList().isEmpty()) {
      Command root = Keyarc.class.getAnnotation(Command.class);
      Map<String, String> codes = new LinkedHashMap<>();
      for (String line : root.exitCodeList()) {
        int colon = line.indexOf(':');
        codes.put(line.substring(0, colon), line.substring(colon + 1));
      }
      usage.exitCodeListHeading(root.exitCodeListHeading()).exitCodeList(codes);
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
  public static final class UserException extends Exception {
    private final ErrorCode code;

    public UserException(ErrorCode code, String message) {
      super(message);
      this.code = code;
    }

    public ErrorCode code() {
      return code;
    }
  }
}
