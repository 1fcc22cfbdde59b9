package org.keyarc.cli;

import java.io.PrintWriter;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * {@code keyarc}: the root command.
 *
 * <p>Exit codes: 0 success; 1 unexpected failure; 2 usage error; otherwise the number of the
 * {@link ErrorCode} (10 token not present, 11 PIN incorrect, ...; {@code keyarc --help} lists them).
 */
@Command(name = "keyarc", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT,
    version = "keyarc 0.1.0",
    description = "HSM-backed certificate authority with M-of-N key archival and smartcard recovery.",
    subcommands = {HsmCommand.class, CaCommand.class, EnrollCommand.class, SecretCommand.class, RequestCommand.class,
        CertCommand.class, CrlCommand.class, RoleCommand.class, AuditCommand.class, KraCommand.class, GetKeyCommand.class,
        RecoverKeyCommand.class, RecoveryCommand.class, AgentCommand.class, DemoCommand.class, BenchCommand.class,
        CommandLine.HelpCommand.class},
    exitCodeListHeading = "%nExit codes:%n")
public final class Keyarc {

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs a command line with the given streams; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Keyarc());
    cl.setOut(out);
    cl.setErr(err);
    cl.getCommandSpec().usageMessage().exitCodeList(exitCodes());
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
  static java.util.Map<String, String> exitCodes() {
    java.util.Map<String, String> codes = new java.util.LinkedHashMap<>();
    codes.put("0", "success");
    codes.put("1", "unexpected failure (details in the log)");
    codes.put("2", "usage error");
    for (ErrorCode c : ErrorCode.values()) {
      codes.put(String.valueOf(c.number()), c.summary());
    }
    return codes;
  }

  private static int fail(PrintWriter err, ErrorCode code, String message) {
    err.println("keyarc: error " + code.number() + " (" + code.summary() + "): " + message);
    return code.number();
  }

  /** A user mistake with its error code; printed as one line, no stack trace. */
  static final class UserException extends org.keyarc.protocol.KeyarcException {
    private static final long serialVersionUID = 1L;

    UserException(ErrorCode code, String message) {
      super(code, message);
    }
  }
}
