package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyarc kra add|list|remove|policy}: the recovery agents archived keys are encrypted to (administrator). */
@Command(name = "kra", description = "Key recovery agents and the archival policy (CA administrator).",
    mixinStandardHelpOptions = true)
final class KraCommand {
  @Spec
  CommandSpec spec;

  /** An agent named by its certificate file or its serial. */
  static final class Which {
    @Parameters(paramLabel = "CERT", arity = "0..1", description = "the agent's certificate (PEM or DER)")
    Path cert;

    @Option(names = "--serial", paramLabel = "HEX", description = "the agent certificate's serial")
    String serial;

    String serialHex() throws Keyarc.UserException {
      if (serial != null) {
        return serial;
      }
      return CliFiles.readCertificate(cert).getSerialNumber().toString(16);
    }
  }

  @Command(name = "add", description = "Add a recovery agent: a valid, unrevoked KeyRecoveryAgent certificate this "
      + "CA issued.")
  int add(@Mixin NodeOptions node, @ArgGroup(exclusive = true, multiplicity = "1") Which which) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request("kra.add").put("serial", which.serialHex()));
    spec.commandLine().getOut().println("added recovery agent " + r.path("subject").asText() + " (serial "
        + r.path("added").asText() + ")");
    return 0;
  }

  @Command(name = "remove", description = "Remove a recovery agent (keys archived before stay encrypted to it).")
  int remove(@Mixin NodeOptions node, @ArgGroup(exclusive = true, multiplicity = "1") Which which) throws Exception {
    AdminCall.call(node, AdminCall.request("kra.remove").put("serial", which.serialHex()));
    spec.commandLine().getOut().println("removed recovery agent " + which.serialHex());
    return 0;
  }

  @Command(name = "policy", description = "Set N (agents each archived key is encrypted for) and M (agents needed to "
      + "recover it).")
  int policy(@Mixin NodeOptions node, @Option(names = "--agents", required = true, paramLabel = "N") int agents,
      @Option(names = "--threshold", required = true, paramLabel = "M") int threshold) throws Exception {
    AdminCall.call(node, AdminCall.request("kra.policy").put("agents", agents).put("threshold", threshold));
    spec.commandLine().getOut().println("archival policy: each key encrypted for " + agents + " agents, " + threshold
        + " needed to recover it");
    return 0;
  }

  @Command(name = "list", description = "The agents, whether each is usable, and the policy.")
  int list(@Mixin NodeOptions node, @Option(names = "--json") boolean json) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request("kra.list"));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    out.println("policy: " + r.path("threshold").asInt() + " of " + r.path("agents").asInt() + " agents");
    int valid = 0;
    for (JsonNode a : r.path("recoveryAgents")) {
      boolean ok = a.path("valid").asBoolean();
      valid += ok ? 1 : 0;
      out.printf("  %-42s %-28s %s%n", a.path("serial").asText(), a.path("subject").asText(),
          ok ? "valid until " + a.path("notAfter").asText() : "INVALID: " + a.path("problem").asText());
    }
    if (valid < r.path("agents").asInt()) {
      out.println("WARNING: only " + valid + " valid agents; archival needs " + r.path("agents").asInt()
          + " and is refused until then");
    }
    return 0;
  }
}
