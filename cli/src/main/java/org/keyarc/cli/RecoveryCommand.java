package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyarc recovery open|list|show}: online recoveries through the node. */
@Command(name = "recovery", mixinStandardHelpOptions = true, description = "Online key recovery: a certificate "
    + "manager opens it, recovery agents do their steps with 'keyarc agent watch'.")
final class RecoveryCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "open", description = "Open the recovery of the key of certificate SERIAL (certificate manager).")
  int open(@Mixin NodeOptions node, @Option(names = "--serial", required = true, paramLabel = "HEX") String serial)
      throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_OPEN).put(AdminFields.SERIAL, serial));
    spec.commandLine().getOut().println("opened recovery " + r.path("id").asLong() + " for certificate " + serial
        + "; agents take their steps with 'keyarc agent watch'");
    return 0;
  }

  @Command(name = "list", description = "Open recoveries (--all: also completed ones).")
  int list(@Mixin NodeOptions node, @Option(names = "--all") boolean all) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_LIST).put(AdminFields.ALL, all));
    PrintWriter out = spec.commandLine().getOut();
    out.printf("%-5s %-10s %-8s %-42s %s%n", "ID", "STATUS", "STEPS", "SERIAL", "SUBJECT");
    for (JsonNode x : r.path("recoveries")) {
      out.printf("%-5d %-10s %d of %-3d %-42s %s%n", x.path("id").asLong(), x.path("status").asText().toLowerCase(),
          x.path("stepsDone").asInt(), x.path("threshold").asInt(), x.path("serial").asText(),
          x.path("subject").asText());
    }
    return 0;
  }

  @Command(name = "receipt", description = "A receipt of a completed recovery to send the key's owner: who recovered "
      + "the key of which certificate, with which cards, when; signed by the CA (openssl cms -verify -CAfile ca.crt "
      + "-in FILE -inform DER shows and checks it). Certificate managers.")
  int receipt(@Mixin NodeOptions node, @Parameters(paramLabel = "ID") long id,
      @Option(names = "--out", required = true, paramLabel = "FILE", description = "the signed receipt (DER CMS)")
          java.nio.file.Path out,
      @Option(names = "--force", description = "overwrite --out") boolean force) throws Exception {
    CliFiles.checkWritable(out, force);
    JsonNode x = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_RECEIPT).put(AdminFields.ID, id));
    byte[] der = java.util.Base64.getDecoder().decode(x.path("receipt").asText());
    CliFiles.write(out, der, false, force);
    PrintWriter w = spec.commandLine().getOut();
    w.println(new String((byte[]) new org.bouncycastle.cms.CMSSignedData(der).getSignedContent().getContent(),
        java.nio.charset.StandardCharsets.UTF_8).strip());
    w.println("wrote         " + out + " (signed by the CA)");
    return 0;
  }

  @Command(name = "show", description = "One recovery and who did which step, with which card, when.")
  int show(@Mixin NodeOptions node, @Parameters(paramLabel = "ID") long id) throws Exception {
    JsonNode x = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_SHOW).put(AdminFields.ID, id))
        .path("recovery");
    PrintWriter out = spec.commandLine().getOut();
    out.println("recovery " + x.path("id").asLong() + ": " + x.path("subject").asText() + " (serial "
        + x.path("serial").asText() + "), " + x.path("status").asText().toLowerCase() + ", "
        + x.path("stepsDone").asInt() + " of " + x.path("threshold").asInt() + " steps; opened by "
        + x.path("openedBy").asText() + " at " + x.path("openedAt").asText());
    for (JsonNode s : x.path("steps")) {
      out.println("  step " + s.path("step").asInt() + "  " + s.path("agent").asText() + "  card "
          + s.path("card").asText() + "  agent certificate " + s.path("agentCert").asText() + "  at "
          + s.path("at").asText());
    }
    return 0;
  }
}
