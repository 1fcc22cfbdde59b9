package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc role grant|revoke|list} (CA administrator). A role is bound to the public key of the member's
 * certificate, named by the certificate file, its serial, or the subject of the one certificate holder of that
 * name; the subject is only a label.
 */
@Command(name = "role", description = "Roles: administrator, manager, auditor, recovery_agent (administrator only). "
    + "A role is bound to the key of one certificate this CA issued, not to a name.",
    mixinStandardHelpOptions = true)
final class RoleCommand {
  @Spec
  CommandSpec spec;

  /** The member: its certificate file, its serial, or the name of the one certificate holder of that name. */
  static final class Member {
    @Parameters(paramLabel = "MEMBER-CERT", arity = "0..1", description = "the member's certificate (PEM or DER)")
    Path cert;

    @Option(names = "--serial", paramLabel = "HEX", description = "the member certificate's serial")
    String serial;

    @Option(names = "--subject", paramLabel = "DN", description = "the member's name: resolved now to the one valid "
        + "certificate of that name (refused when there is none, or several keys)")
    String subject;

    ObjectNode put(ObjectNode req) throws Keyarc.UserException {
      if (subject != null) {
        return req.put(AdminFields.SUBJECT, subject);
      }
      return req.put(AdminFields.SERIAL, serial != null ? serial : CliFiles.readCertificate(cert).getSerialNumber()
          .toString(16));
    }
  }

  @Command(name = "grant", description = "Grant ROLE to the holder of a certificate of this CA (bound to its key).")
  int grant(@Mixin NodeOptions node, @Option(names = "--role", required = true) String role,
      @ArgGroup(exclusive = true, multiplicity = "1") Member member) throws Exception {
    JsonNode r = AdminCall.call(node, member.put(AdminCall.request(AdminOp.ROLE_GRANT).put(AdminFields.ROLE, role)));
    spec.commandLine().getOut().println((r.path("added").asBoolean(true) ? "granted " : "already held: ") + role
        + " to " + r.path("subject").asText() + " (certificate " + r.path("serial").asText() + ", bound to its key)");
    return 0;
  }

  @Command(name = "revoke", description = "Take ROLE away: from the holder of a certificate (its key), or from every "
      + "holder of a name (--subject).")
  int revoke(@Mixin NodeOptions node, @Option(names = "--role", required = true) String role,
      @ArgGroup(exclusive = true, multiplicity = "1") Member member) throws Exception {
    AdminCall.call(node, member.put(AdminCall.request(AdminOp.ROLE_REVOKE).put(AdminFields.ROLE, role)));
    spec.commandLine().getOut().println("revoked " + role + " from " + (member.subject != null ? member.subject
        : "certificate " + (member.serial != null ? member.serial : member.cert)));
    return 0;
  }

  @Command(name = "list", description = "Who holds which role (and the roles waiting for a first certificate).")
  int list(@Mixin NodeOptions node) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.ROLE_LIST));
    PrintWriter out = spec.commandLine().getOut();
    for (JsonNode m : r.path("members")) {
      out.printf("%-15s %-32s certificate %s%n", m.path("role").asText().toLowerCase(), m.path("subject").asText(),
          m.path("serial").asText());
    }
    for (JsonNode p : r.path("pending")) {
      out.printf("%-15s %-32s waits for the first certificate from secret %s%n", p.path("role").asText().toLowerCase(),
          p.path("subject").asText(), p.path("secret").asText());
    }
    return 0;
  }
}
