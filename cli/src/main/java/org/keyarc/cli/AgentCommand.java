package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.agent.recovery.RecoveryBlob;
import org.keyarc.agent.recovery.RecoveryException;
import org.keyarc.agent.recovery.RecoveryStep;
import org.keyarc.hsm.HsmException;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.archive.RecoveryProgress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code keyarc agent watch}: a recovery agent's online side. It waits for the agent's card, then, for each
 * open recovery whose next step this card can do, does the step on this machine and hands the (still
 * encrypted) result back to the node; the step that reaches the threshold writes the PKCS#12 here.
 */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "The recovery agent's online side.")
final class AgentCommand {
  @Spec
  CommandSpec spec;

  @Command(name = "watch", description = "Wait for the card, then show each open recovery (whose key, which "
      + "certificate, who opened it, when) and do this agent's step of those the agent approves: at the prompt, or "
      + "named with --approve. The agent's identity is --cert/--key (a certificate of this CA with the "
      + "recovery_agent role).")
  int watch(@Mixin NodeOptions node, @Mixin HsmOptions card,
      @Option(names = "--once", description = "one pass over the open recoveries, then exit") boolean once,
      @Option(names = "--interval", defaultValue = "2", paramLabel = "SECONDS") int interval,
      @Option(names = "--out-dir", defaultValue = ".", paramLabel = "DIR", description = "where a final step writes "
          + "the PKCS#12") Path outDir,
      @Option(names = "--password-file", paramLabel = "FILE", description = "the PKCS#12 password (else asked twice)")
          Path passwordFile,
      @Option(names = "--approve", paramLabel = "ID", description = "do the step of recovery ID without asking "
          + "(repeatable); without it the agent is asked for each recovery, and without a terminal none is done")
          java.util.List<Long> approve) throws Exception {
    approved = approve == null ? java.util.Set.of() : java.util.Set.copyOf(approve);
    PrintWriter out = spec.commandLine().getOut();
    java.util.List<X509CertificateHolder> ca = node.trustedCas();
    while (true) {
      boolean present;
      try (HsmModule m = card.load()) {
        present = cardPresent(m, card);
        if (present) {
          RecoverKeyCommand.warnPin(m.find(card.selector()), spec.commandLine().getErr());
          try (HsmToken token = card.open(m, true)) {
            out.println("card          " + token.label() + " inserted");
            pass(out, node, token, ca, outDir, passwordFile);
          }
        } else {
          out.println("waiting       for the agent's card (" + card.selector() + ")");
        }
      }
      if (once) {
        if (!present) {
          throw new Keyarc.UserException(ErrorCode.TOKEN_NOT_PRESENT, "the agent's card " + card.selector()
              + " is not in the reader");
        }
        return 0;
      }
      Thread.sleep(interval * 1000L);
    }
  }

  private java.util.Set<Long> approved = java.util.Set.of();

  /** Whether the agent approves a step of recovery {@code r}: named with --approve, or yes at the prompt. */
  private boolean agentApproves(PrintWriter out, JsonNode r) {
    long id = r.path("id").asLong();
    out.println("recovery " + id + "  key of " + r.path("subject").asText() + " (certificate " + r.path("serial")
        .asText() + "), opened by " + r.path("openedBy").asText() + " at " + r.path("openedAt").asText() + ", "
        + r.path("stepsDone").asInt() + " of " + r.path("threshold").asInt() + " steps done");
    if (approved.contains(id)) {
      return true;
    }
    java.io.Console console = System.console();
    if (console == null) {
      out.println("recovery " + id + "  not approved: run again with --approve " + id + " to do this step");
      return false;
    }
    String answer = console.readLine("do your step of recovery %d? [y/N] ", id);
    return answer != null && answer.trim().equalsIgnoreCase("y");
  }

  private static boolean cardPresent(HsmModule m, HsmOptions card) {
    try {
      return m.find(card.selector()).present();
    } catch (HsmException e) {
      return false;
    }
  }

  private void pass(PrintWriter out, NodeOptions node, HsmToken token, java.util.List<X509CertificateHolder> ca,
      Path outDir, Path passwordFile) throws Exception {
    JsonNode list = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_LIST));
    for (JsonNode r : list.path("recoveries")) {
      long id = r.path("id").asLong();
      if (!agentApproves(out, r)) {
        continue;
      }
      JsonNode x;
      try {
        x = AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_SHOW).put(AdminFields.ID, id)
            .put(AdminFields.MATERIAL, true)).path("recovery");
      } catch (org.keyarc.protocol.client.CmpClientException e) {
        if (e.code() != ErrorCode.BAD_REQUEST) {
          throw e; // not a recovery agent, or a revoked one: the agent must know
        }
        out.println("recovery " + id + "  not for this card now: " + e.getMessage());
        continue;
      }
      RecoveryBlob blob = RecoveryBlob.verify(Base64.getDecoder().decode(x.path("blob").asText()), ca);
      RecoveryProgress progress = x.has("progress")
          ? RecoveryProgress.parse(Base64.getDecoder().decode(x.path("progress").asText())) : null;
      // ask the node first whether this card's agent may do the next step (revoked agents may not)
      boolean skip = false;
      var onCard = RecoveryStep.agentsOn(blob, token);
      for (int agent : onCard.keySet()) {
        try {
          AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_CHECK).put(AdminFields.ID, id)
              .put(AdminFields.SERIAL, blob.record().agents().get(agent).getSerialNumber().getValue().toString(16))
              .put(AdminFields.CARD, token.label()));
        } catch (org.keyarc.protocol.client.CmpClientException e) {
          if (e.code() != ErrorCode.BAD_REQUEST) {
            throw e; // revoked, or not this identity's card: the agent must know
          }
          out.println("recovery " + id + "  not for this card now: " + e.getMessage());
          skip = true;
        }
      }
      if (skip) {
        continue;
      }
      RecoveryStep.Result result;
      try {
        result = RecoveryStep.run(blob, progress, token, onCard);
      } catch (RecoveryException e) {
        if (e.code() == ErrorCode.NOT_AUTHORIZED || e.code() == ErrorCode.KEY_NOT_FOUND
            || e.code() == ErrorCode.BAD_REQUEST) {
          out.println("recovery " + id + "  not for this card now: " + e.getMessage());
          continue;
        }
        throw e;
      }
      if (result instanceof RecoveryStep.Result.Partial p) {
        AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_STEP).put(AdminFields.ID, id)
            .put(AdminFields.SERIAL, blob.record().agents().get(p.agentIndex()).getSerialNumber().getValue()
                .toString(16))
            .put(AdminFields.CARD, token.label())
            .put(AdminFields.PROGRESS, Base64.getEncoder().encodeToString(p.progress().encoded())));
        out.println("recovery " + id + "  step done by " + p.agent() + "; next: " + String.join(" or ", p.needed()));
        continue;
      }
      RecoveryStep.Result.Done done = (RecoveryStep.Result.Done) result;
      try (var key = done.key()) {
        Path p12 = outDir.resolve(RecoverKeyCommand.fileName(blob.userCertificate()));
        RecoverKeyCommand.writePkcs12(key, blob, RecoveryBlob.issuerAmong(blob.userCertificate(), ca), p12,
            passwordFile, false);
        AdminCall.call(node, AdminCall.request(AdminOp.RECOVERY_STEP).put(AdminFields.ID, id)
            .put(AdminFields.SERIAL, blob.record().agents().get(done.agentIndex()).getSerialNumber().getValue()
                .toString(16))
            .put(AdminFields.CARD, token.label()));
        out.println("recovery " + id + "  last step done by " + done.agent() + "; wrote " + p12);
      }
    }
  }
}
