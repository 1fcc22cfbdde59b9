package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code keyarc audit verify}: recompute the audit chain and check the HSM-signed checkpoints. */
@Command(name = "audit", description = "The tamper-evident audit log.", mixinStandardHelpOptions = true)
final class AuditCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "verify", description = "Verify the audit chain. Locally on the CA host (reads the store named "
      + "by the configuration), or with --node as an auditor. Exit 0 when intact, 36 when tampered.")
  int verify(@Mixin NodeOptions node,
      @Option(names = "--config", paramLabel = "FILE", description = "verify the local store of this configuration, with the audit key read from the CA token")
          Path config) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    long records;
    long checkpoints;
    long last;
    List<String> problems;
    if (node.node != null) {
      JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.AUDIT_VERIFY));
      records = r.path("records").asLong();
      checkpoints = r.path("checkpoints").asLong();
      last = r.path("lastCheckpoint").asLong();
      problems = new java.util.ArrayList<>();
      r.path("problems").forEach(p -> problems.add(p.asText()));
    } else {
      NodeConfig cfg = CliFiles.config(config);
      try (CaNode.Resources r = CaNode.open(cfg)) {
        AuditChain.Verification v = AuditService.verify(r.store(), r.token());
        records = v.records();
        checkpoints = v.checkpoints();
        last = v.lastCheckpoint();
        problems = v.problems();
      }
    }
    for (String p : problems) {
      out.println("TAMPERED  " + p);
    }
    out.println(records + " records, " + checkpoints + " signed checkpoint" + (checkpoints == 1 ? "" : "s")
        + ", last at record " + last
        + (last < records ? " (" + (records - last) + " newer records not yet under a signed checkpoint)" : ""));
    if (!problems.isEmpty()) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "the audit log was tampered with: " + problems.get(0));
    }
    out.println("audit chain intact");
    return 0;
  }
}
