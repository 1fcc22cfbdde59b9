package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyarc role grant|revoke|list} (CA administrator). */
@Command(name = "role", description = "Roles: administrator, manager, auditor, recovery_agent (administrator only).",
    mixinStandardHelpOptions = true)
final class RoleCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "grant", description = "Grant ROLE to the certificate subject DN.")
  int grant(@Mixin NodeOptions node, @Option(names = "--role", required = true) String role,
      @Option(names = "--subject", required = true, paramLabel = "DN") String subject) throws Exception {
    AdminCall.call(node, AdminCall.request(AdminOp.ROLE_GRANT).put(AdminFields.ROLE, role)
        .put(AdminFields.SUBJECT, subject));
    spec.commandLine().getOut().println("granted " + role + " to " + subject);
    return 0;
  }

  @Command(name = "revoke", description = "Take ROLE away from DN.")
  int revoke(@Mixin NodeOptions node, @Option(names = "--role", required = true) String role,
      @Option(names = "--subject", required = true, paramLabel = "DN") String subject) throws Exception {
    AdminCall.call(node, AdminCall.request(AdminOp.ROLE_REVOKE).put(AdminFields.ROLE, role)
        .put(AdminFields.SUBJECT, subject));
    spec.commandLine().getOut().println("revoked " + role + " from " + subject);
    return 0;
  }

  @Command(name = "list", description = "Who holds which role.")
  int list(@Mixin NodeOptions node) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.ROLE_LIST));
    PrintWriter out = spec.commandLine().getOut();
    for (JsonNode m : r.path("members")) {
      out.printf("%-15s %s%n", m.path("role").asText().toLowerCase(), m.path("subject").asText());
    }
    return 0;
  }
}
