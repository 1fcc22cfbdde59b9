package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyarc secret create}: a one-time enrollment secret, made by a manager or administrator on the node. */
@Command(name = "secret", description = "One-time enrollment secrets (reference number + secret).",
    mixinStandardHelpOptions = true)
final class SecretCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "create", description = "Create a one-time secret for one certificate of TEMPLATE for SUBJECT, "
      + "with the subjectAltNames it will carry (--email, --san). The secret is shown once; the node keeps only "
      + "its hash.")
  int create(@Mixin NodeOptions node,
      @Option(names = "--template", required = true, paramLabel = "T") String template,
      @Option(names = "--subject", required = true, paramLabel = "DN") String subject,
      @Option(names = "--email", paramLabel = "ADDRESS", description = "the e-mail address of the certificate "
          + "(rfc822Name subjectAltName; S/MIME templates such as ExchangeUserKeyArc)") String email,
      @Option(names = "--san", paramLabel = "TYPE:VALUE", description = "another subjectAltName the template takes "
          + "from a secret: upn:, dns:, ip:, uri:, dirName: or email: (repeatable)") List<String> sans,
      @Option(names = "--json", description = "print JSON") boolean json) throws Exception {
    ObjectNode req = AdminCall.request(AdminOp.SECRET_CREATE).put(AdminFields.TEMPLATE, template)
        .put(AdminFields.SUBJECT, subject);
    if (email != null) {
      req.put(AdminFields.EMAIL, email);
    }
    if (sans != null && !sans.isEmpty()) {
      ArrayNode list = req.putArray(AdminFields.SUBJECT_ALT_NAMES);
      sans.forEach(list::add);
    }
    JsonNode r = AdminCall.call(node, req);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    out.println("reference  " + r.path("reference").asText());
    out.println("secret     " + r.path("secret").asText() + "   (shown once: hand it to the enrollee)");
    out.println("template   " + r.path("template").asText());
    out.println("subject    " + r.path("subject").asText());
    for (JsonNode n : r.path(AdminFields.SUBJECT_ALT_NAMES)) {
      out.println("san        " + n.asText());
    }
    out.println("expires    " + r.path("expires").asText());
    return 0;
  }
}
