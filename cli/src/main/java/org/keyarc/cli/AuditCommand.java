package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.keyarc.ca.audit.AuditChain;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.audit.CheckpointExport;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.node.CaNode;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc audit verify|list|export|acknowledge}: recompute the audit chain and check the HSM-signed, chained
 * checkpoints (against the CA token's anchor and, with {@code --anchor}, an exported checkpoint file); read the
 * records as an auditor; acknowledge a rollback the node found (administrator).
 */
@Command(name = "audit", description = "The tamper-evident audit log.", mixinStandardHelpOptions = true)
final class AuditCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "verify", description = "Verify the audit chain. Locally on the CA host (reads the store named "
      + "by the configuration), or with --node as an auditor. Exit 0 when intact, 36 when tampered.")
  int verify(@Mixin NodeOptions node,
      @Option(names = "--config", paramLabel = "FILE", description = "verify the local store of this configuration, with the audit key read from the CA token")
          Path config,
      @Option(names = "--anchor", paramLabel = "FILE", description = "also check the store against checkpoints "
          + "exported from it (audit.exportFile, one JSON checkpoint a line): a rollback or rewrite since shows")
          Path anchor) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    long records;
    long chains;
    long checkpoints;
    long uncovered;
    List<String> problems;
    List<org.keyarc.ca.store.AuditStore.Checkpoint> exported = null;
    if (anchor != null) {
      try {
        exported = CheckpointExport.read(java.nio.file.Files.readAllLines(anchor));
      } catch (java.io.IOException | IllegalArgumentException e) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "cannot read exported checkpoints from " + anchor + ": "
            + e.getMessage());
      }
    }
    if (node.node != null) {
      com.fasterxml.jackson.databind.node.ObjectNode req = AdminCall.request(AdminOp.AUDIT_VERIFY);
      if (exported != null) {
        com.fasterxml.jackson.databind.node.ArrayNode a = req.putArray(AdminFields.ANCHORS);
        for (var cp : exported) {
          a.add(AdminCall.JSON.readTree(CheckpointExport.line(cp)));
        }
      }
      JsonNode r = AdminCall.call(node, req);
      records = r.path("records").asLong();
      chains = r.path("chains").asLong();
      checkpoints = r.path("checkpoints").asLong();
      uncovered = r.path("uncovered").asLong();
      problems = new java.util.ArrayList<>();
      r.path("problems").forEach(p -> problems.add(p.asText()));
    } else {
      NodeConfig cfg = CliFiles.config(config);
      try (CaNode.Resources r = CaNode.open(cfg)) {
        AuditChain.Verification v = exported == null ? AuditService.verify(r.store(), r.token())
            : AuditService.verifyExported(r.store(), r.token(), exported);
        records = v.records();
        chains = v.chains();
        checkpoints = v.checkpoints();
        uncovered = v.uncovered();
        problems = v.problems();
      }
    }
    for (String p : problems) {
      out.println("TAMPERED  " + p);
    }
    out.println(records + " records in " + chains + " chain" + (chains == 1 ? "" : "s") + ", " + checkpoints
        + " signed checkpoint" + (checkpoints == 1 ? "" : "s") + ", " + (uncovered == 0 ? "every record under one"
        : uncovered + " newer record" + (uncovered == 1 ? "" : "s") + " not yet under a signed checkpoint"));
    if (!problems.isEmpty()) {
      throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "the audit log was tampered with: " + problems.get(0));
    }
    out.println("audit chain intact" + (anchor != null ? ", and it holds every checkpoint exported to " + anchor : ""));
    return 0;
  }

  @Command(name = "list", description = "Audit records (auditor), oldest first; filters by time, action, actor and "
      + "target. The reading is itself audited.")
  int list(@Mixin NodeOptions node,
      @Option(names = "--from", defaultValue = "1", paramLabel = "ID", description = "the first record's id (the "
          + "first column: the order records were written in, across every node's chain)") long from,
      @Option(names = "--since", paramLabel = "TIME", description = "ISO-8601, e.g. 2026-12-01T00:00:00Z") String since,
      @Option(names = "--until", paramLabel = "TIME") String until,
      @Option(names = "--action", paramLabel = "ACTION", description = "e.g. cert.issue, key.getkey") String action,
      @Option(names = "--actor", paramLabel = "ACTOR") String actor,
      @Option(names = "--target", paramLabel = "TARGET", description = "e.g. serial:5f1c") String target,
      @Option(names = "--limit", defaultValue = "100", paramLabel = "N", description = "at most 1000") int limit,
      @Option(names = "--json", description = "one JSON object a line") boolean json) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    for (JsonNode r : page(node, from, since, until, action, actor, target, limit)) {
      out.println(json ? r.toString() : String.format("%6d  %-12s %s  %-20s %-32s %s  %s", r.path("id").asLong(),
          r.path("chain").asText() + "#" + r.path("seq").asLong(), r.path("at").asText(), r.path("action").asText(),
          r.path("actor").asText(), r.path("target").asText(), r.path("detail").asText()));
    }
    return 0;
  }

  @Command(name = "export", description = "Write every audit record matching the filters to FILE, one JSON object a "
      + "line (auditor; 0600; an existing file is kept unless --force).")
  int export(@Mixin NodeOptions node,
      @Option(names = "--out", required = true, paramLabel = "FILE") Path file,
      @Option(names = "--since", paramLabel = "TIME") String since,
      @Option(names = "--until", paramLabel = "TIME") String until,
      @Option(names = "--action", paramLabel = "ACTION") String action,
      @Option(names = "--actor", paramLabel = "ACTOR") String actor,
      @Option(names = "--target", paramLabel = "TARGET") String target,
      @Option(names = "--force", description = "overwrite FILE") boolean force) throws Exception {
    StringBuilder all = new StringBuilder();
    long from = 1;
    int n = 0;
    while (true) {
      List<JsonNode> rows = page(node, from, since, until, action, actor, target, 1000);
      for (JsonNode r : rows) {
        all.append(r).append('\n');
        from = r.path("id").asLong() + 1;
        n++;
      }
      if (rows.size() < 1000) {
        break;
      }
    }
    CliFiles.write(file, all.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), true, force);
    spec.commandLine().getOut().println("wrote " + file + " (" + n + " records)");
    return 0;
  }

  @Command(name = "acknowledge", description = "After investigating a rollback the node found (it stopped issuing, "
      + "error 64), record the acknowledgement and let it issue again (administrator).")
  int acknowledge(@Mixin NodeOptions node,
      @Option(names = "--note", required = true, paramLabel = "TEXT", description = "what was found and done") String note)
      throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.AUDIT_ACKNOWLEDGE).put(AdminFields.NOTE, note));
    spec.commandLine().getOut().println("acknowledged; the CA issues again from the checkpoint at record "
        + r.path("checkpoint").asLong());
    return 0;
  }

  private static List<JsonNode> page(NodeOptions node, long from, String since, String until, String action,
      String actor, String target, int limit) throws Exception {
    com.fasterxml.jackson.databind.node.ObjectNode req = AdminCall.request(AdminOp.AUDIT_LIST)
        .put(AdminFields.FROM, from).put(AdminFields.LIMIT, limit);
    putIf(req, AdminFields.SINCE, since);
    putIf(req, AdminFields.UNTIL, until);
    putIf(req, AdminFields.ACTION, action);
    putIf(req, AdminFields.ACTOR, actor);
    putIf(req, AdminFields.TARGET, target);
    List<JsonNode> out = new java.util.ArrayList<>();
    AdminCall.call(node, req).path("records").forEach(out::add);
    return out;
  }

  private static void putIf(com.fasterxml.jackson.databind.node.ObjectNode req, String field, String value) {
    if (value != null) {
      req.put(field, value);
    }
  }
}
