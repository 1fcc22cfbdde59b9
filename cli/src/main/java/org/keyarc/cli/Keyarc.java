package org.keyarc.cli;

import java.io.PrintWriter;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import picocli.CommandLine;
import picocli.CommandLine.Command;

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

  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /** Runs a command line with the given streams; returns the exit code. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Keyarc());
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

  private static int fail(PrintWriter err, ErrorCode code, String message) {
    err.println("keyarc: error " + code.number() + " (" + code.summary() + "): " + message);
    return code.number();
  }

  /** A user mistake with its error code; printed as one line, no stack trace. */
  static final class UserException extends Exception {
    private final ErrorCode code;

    UserException(ErrorCode code, String message) {
      super(message);
      this.code = code;
    }

    ErrorCode code() {
      return code;
    }
  }
}
