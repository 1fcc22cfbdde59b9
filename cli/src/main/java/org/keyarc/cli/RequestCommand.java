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

/** {@code keyarc request list|show|approve|deny}: the certificate manager's queue of pending requests. */
@Command(name = "request", description = "Requests held for approval (certificate manager).",
    mixinStandardHelpOptions = true)
final class RequestCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "list", description = "List requests (default: pending ones).")
  int list(@Mixin NodeOptions node,
      @Option(names = "--status", defaultValue = "pending", description = "pending, approved, denied or all")
          String status,
      @Option(names = "--json") boolean json) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.REQUEST_LIST)
        .put(AdminFields.STATUS, status.equals("all") ? "" : status));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    out.printf("%-6s %-9s %-20s %-32s %s%n", "ID", "STATUS", "TEMPLATE", "SUBJECT", "REQUESTED BY");
    for (JsonNode q : r.path("requests")) {
      out.printf("%-6d %-9s %-20s %-32s %s%n", q.path("id").asLong(), q.path("status").asText().toLowerCase(),
          q.path("template").asText(), q.path("subject").asText(), q.path("requester").asText());
    }
    return 0;
  }

  @Command(name = "show", description = "Show one request.")
  int show(@Mixin NodeOptions node, @Parameters(paramLabel = "ID") long id) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.REQUEST_SHOW).put(AdminFields.ID, id));
    spec.commandLine().getOut().println(r.path("request").toPrettyString());
    return 0;
  }

  @Command(name = "approve", description = "Approve a pending request: the certificate is issued now and the "
      + "requester receives it at its next poll.")
  int approve(@Mixin NodeOptions node, @Parameters(paramLabel = "ID") long id) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.REQUEST_APPROVE).put(AdminFields.ID, id));
    spec.commandLine().getOut().println(r.path("waiting").asBoolean() ? "approved request " + id + ": it waits "
        + "for the approval of another certificate manager (its template needs more than one)"
        : "approved request " + id + ": certificate " + r.path("serial").asText() + " for "
        + r.path("subject").asText());
    return 0;
  }

  @Command(name = "deny", description = "Deny a pending request; the requester's next poll gets the reason.")
  int deny(@Mixin NodeOptions node, @Parameters(paramLabel = "ID") long id,
      @Option(names = "--reason", defaultValue = "denied by the certificate manager") String reason)
      throws Exception {
    AdminCall.call(node, AdminCall.request(AdminOp.REQUEST_DENY).put(AdminFields.ID, id)
        .put(AdminFields.REASON, reason));
    spec.commandLine().getOut().println("denied request " + id + ": " + reason);
    return 0;
  }
}
