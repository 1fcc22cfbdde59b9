package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.util.Base64;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.client.CmpClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keyarc cert list|show|revoke}. */
@Command(name = "cert", description = "Certificates this CA issued.", mixinStandardHelpOptions = true)
final class CertCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "list", description = "List certificates, newest first.")
  int list(@Mixin NodeOptions node,
      @Option(names = "--status", description = "issued, unconfirmed or revoked") String status,
      @Option(names = "--subject", paramLabel = "DN") String subject,
      @Option(names = "--limit", defaultValue = "100") int limit,
      @Option(names = "--json") boolean json) throws Exception {
    var req = AdminCall.request(AdminOp.CERT_LIST).put(AdminFields.LIMIT, limit);
    if (status != null) {
      req.put(AdminFields.STATUS, status);
    }
    if (subject != null) {
      req.put(AdminFields.SUBJECT, subject);
    }
    JsonNode r = AdminCall.call(node, req);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    out.printf("%-42s %-11s %-20s %-22s %-8s %s%n", "SERIAL", "STATUS", "TEMPLATE", "NOT AFTER", "ARCHIVED",
        "SUBJECT");
    for (JsonNode c : r.path("certificates")) {
      out.printf("%-42s %-11s %-20s %-22s %-8s %s%n", c.path("serial").asText(), c.path("status").asText()
          .toLowerCase(), c.path("template").asText(), c.path("notAfter").asText(), c.path("archived").asBoolean()
          ? "yes" : "-", c.path("subject").asText());
    }
    return 0;
  }

  @Command(name = "show", description = "Show one certificate (PEM with --pem).")
  int show(@Mixin NodeOptions node, @Parameters(paramLabel = "SERIAL", description = "hexadecimal") String serial,
      @Option(names = "--pem", description = "print the certificate as PEM") boolean pem) throws Exception {
    JsonNode c = AdminCall.call(node, AdminCall.request(AdminOp.CERT_SHOW).put(AdminFields.SERIAL, serial))
        .path("certificate");
    PrintWriter out = spec.commandLine().getOut();
    if (pem) {
      if (!c.has("der")) { // UNCONFIRMED: the node withholds it until the requester's certConf
        throw new Keyarc.UserException(ErrorCode.NOT_FOUND, "certificate " + serial + " is waiting for its "
            + "requester's certConf; " + c.path("withheld").asText());
      }
      out.print(CliFiles.pem(new X509CertificateHolder(Base64.getDecoder().decode(c.path("der").asText()))));
      return 0;
    }
    ((com.fasterxml.jackson.databind.node.ObjectNode) c).remove("der");
    out.println(c.toPrettyString());
    return 0;
  }

  @Command(name = "revoke", description = "Revoke a certificate (certificate manager, or the holder with its own "
      + "certificate); a new CRL is published at once.")
  int revoke(@Mixin NodeOptions node, @Parameters(paramLabel = "SERIAL", description = "hexadecimal") String serial,
      @Option(names = "--reason", defaultValue = "unspecified", description = "unspecified, keyCompromise, "
          + "affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn")
          String reason) throws Exception {
    int code = reasonCode(reason);
    BigInteger s;
    try {
      s = new BigInteger(serial, 16);
    } catch (NumberFormatException e) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "serial '" + serial + "' is not hexadecimal");
    }
    try (CmpClient c = node.signedClient()) {
      c.revoke(node.trustedCa(true).getSubject(), s, code);
    }
    spec.commandLine().getOut().println("revoked " + serial + " (" + reason + "); the new CRL lists it");
    return 0;
  }

  static int reasonCode(String name) throws Keyarc.UserException {
    String[] names = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
    for (int i = 0; i < names.length; i++) {
      if (!names[i].isEmpty() && names[i].equalsIgnoreCase(name)) {
        return i;
      }
    }
    throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "unknown revocation reason '" + name + "'");
  }

}
