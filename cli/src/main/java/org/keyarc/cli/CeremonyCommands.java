package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSSignedData;
import org.keyarc.agent.recovery.CeremonyStep;
import org.keyarc.agent.recovery.RecoveryBlob;
import org.keyarc.agent.recovery.RecoveryException;
import org.keyarc.agent.recovery.RecoveryStep;
import org.keyarc.ca.support.Texts;
import org.keyarc.hsm.HsmModule;
import org.keyarc.hsm.HsmToken;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.hsm.TokenDescription;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.admin.AdminFields;
import org.keyarc.protocol.admin.AdminOp;
import org.keyarc.protocol.archive.CeremonyOrder;
import org.keyarc.protocol.archive.CeremonyWork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Agent rotation and recoverability drills: {@code keyarc kra rotate}, {@code kra drill} (a certificate manager
 * starts one and writes the ceremony file), {@code kra step} (each agent, with its card), {@code kra submit} (the
 * manager hands the answers back) and {@code kra ceremonies}. docs/recovery.md tells the whole ceremony.
 */
final class CeremonyCommands {
  private CeremonyCommands() {}

  /** How many blobs one page of the ceremony file holds, and how many answers one submission carries. */
  static final int PAGE = 50;

  /** What rotate and drill share: the selection, the dry run, the start and the file. */
  abstract static class Start implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    NodeOptions node;

    @Option(names = "--serial", paramLabel = "HEX", description = "only this archived key's certificate (repeatable)")
    List<String> serials = List.of();

    @Option(names = "--limit", paramLabel = "N", description = "at most N archives in this ceremony (default 1000; "
        + "start another for the rest)")
    int limit;

    @Option(names = "--dry-run", description = "say what would be taken and changed; start nothing")
    boolean dryRun;

    @Option(names = "--resume", paramLabel = "ID", description = "write the file of ceremony ID again, with the "
        + "archives it has not finished")
    Long resume;

    @Option(names = "--out", paramLabel = "FILE", description = "the ceremony file for the agents")
    Path out;

    @Option(names = "--restart-online", description = "with --resume: the file agents hand through the node (kra "
        + "step-online) starts again from the blobs, after an agent handed back a damaged one")
    boolean restartOnline;

    @Option(names = "--force", description = "overwrite FILE")
    boolean force;

    abstract String kind();

    abstract void select(ObjectNode req);

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      if (!dryRun && out == null) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "give --out FILE (the ceremony file) or --dry-run");
      }
      if (out != null) {
        CliFiles.checkWritable(out, force);
      }
      long id;
      if (resume != null) {
        id = resume;
      } else {
        ObjectNode req = AdminCall.request(dryRun ? AdminOp.KRA_CEREMONY_PLAN : AdminOp.KRA_CEREMONY_START)
            .put(AdminFields.KIND, kind()).put(AdminFields.LIMIT, limit);
        ArrayNode s = req.putArray(AdminFields.SERIALS);
        serials.forEach(s::add);
        select(req);
        JsonNode r = AdminCall.call(node, req);
        if (dryRun) {
          int n = 0;
          for (JsonNode a : r.path("archives")) {
            n++;
            w.printf("%-40s %-32s %s%s%n", a.path("serial").asText(), Texts.printable(a.path("subject").asText()),
                a.path("from").asText(), a.path("to").asText().isEmpty() ? "" : "  ->  " + a.path("to").asText());
          }
          w.println((n == 0 ? "nothing to do" : n + " archive" + (n == 1 ? "" : "s")) + " (dry run: nothing "
              + "started)");
          return 0;
        }
        id = r.path("id").asLong();
        w.println("started       " + kind() + " " + id + " over " + r.path("archives").asInt() + " archives");
      }
      if (restartOnline && resume == null) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "--restart-online goes with --resume ID");
      }
      CeremonyWork work = fetch(node, id, w, restartOnline);
      CliFiles.write(out, work.encoded(), false, force);
      w.println("wrote         " + out + " (" + work.items().size() + " archives; hand it to the agents: keyarc kra "
          + "step " + out + " --token ...)");
      return 0;
    }
  }

  /** Prints the node's answer outcomes, one line each; adds the accepted and refused ones to {@code counts}. */
  static int[] printOutcomes(PrintWriter w, JsonNode answer, int[] counts) {
    for (JsonNode o : answer.path("outcomes")) {
      boolean ok = o.path("accepted").asBoolean();
      counts[ok ? 0 : 1]++;
      w.printf("%-40s %s  %s%n", o.path("serial").asText(), ok ? "accepted" : "REFUSED",
          Texts.printable(o.path("detail").asText()));
    }
    return counts;
  }

  /** Every page of a ceremony's file. */
  static CeremonyWork fetch(NodeOptions node, long id, PrintWriter w, boolean restartOnline) throws Exception {
    List<CeremonyWork.Item> items = new ArrayList<>();
    byte[] order = null;
    int unfinished = Integer.MAX_VALUE;
    while (items.size() < unfinished) {
      JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.KRA_CEREMONY_WORK).put(AdminFields.ID, id)
          .put(AdminFields.OFFSET, items.size()).put(AdminFields.LIMIT, PAGE)
          .put(AdminFields.RESTART, restartOnline && items.isEmpty()));
      order = Base64.getDecoder().decode(r.path("order").asText());
      long got = CeremonyOrder.parse((byte[]) new CMSSignedData(order).getSignedContent().getContent()).ceremony();
      if (got != id) {
        throw new Keyarc.UserException(ErrorCode.BAD_MESSAGE_CHECK, "the node handed out the order of ceremony " + got
            + " for ceremony " + id + ": its store was changed");
      }
      unfinished = r.path("unfinished").asInt();
      if (r.path("blobs").isEmpty()) {
        break;
      }
      for (JsonNode b : r.path("blobs")) {
        items.add(new CeremonyWork.Item(Base64.getDecoder().decode(b.asText()), null, null));
      }
      if (unfinished > PAGE) {
        w.println("fetched       " + items.size() + " of " + unfinished);
      }
    }
    if (items.isEmpty()) {
      throw new Keyarc.UserException(ErrorCode.NOT_FOUND, "ceremony " + id + " has no unfinished archive");
    }
    return new CeremonyWork(order, items);
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true, description = "Re-wrap archived keys to the current "
      + "agents and policy (certificate manager): M agents of each archive open it down to its key K with their cards "
      + "(kra step) and wrap K to the new agents; the private key is never plaintext on the CA node. Takes every "
      + "archive not yet for the current agents, or --serial.")
  static final class Rotate extends Start {
    @Override
    String kind() {
      return "rotation";
    }

    @Override
    void select(ObjectNode req) {}
  }

  @Command(name = "drill", mixinStandardHelpOptions = true, description = "A recoverability drill (certificate "
      + "manager): agents prove with their cards, on a sample of archives, that they can still open them — down to "
      + "the key, checked against its certificate, written nowhere. A drill of a rotated archive drops the record "
      + "kept from before the rotation.")
  static final class Drill extends Start {
    @Option(names = "--sample", paramLabel = "N", description = "how many archives, chosen at random (default 5)")
    int sample;

    @Option(names = "--unverified", description = "every archive a rotation re-wrapped that no drill proved yet")
    boolean unverified;

    @Override
    String kind() {
      return "drill";
    }

    @Override
    void select(ObjectNode req) {
      req.put(AdminFields.SAMPLE, sample).put(AdminFields.UNVERIFIED, unverified);
    }
  }

  @Command(name = "step", mixinStandardHelpOptions = true, description = "Do this agent's step of a rotation or drill "
      + "with its card, on every archive of the file it can serve, in one pass; writes the file for the next agent "
      + "(or, after the last step, for 'kra submit').")
  static final class Step implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "the ceremony file (from kra rotate/drill or the previous agent)")
    Path input;

    @Mixin
    HsmOptions card;

    @Option(names = "--ca-cert", paramLabel = "FILE", description = "the CA certificates, checked out of band "
        + "(GET /ca-certs.pem; default $KEYARC_HOME/ca.crt)")
    Path caCert;

    @Option(names = "--next", paramLabel = "FILE", description = "where to write the file (default FILE.next)")
    Path next;

    @Option(names = "--crl", paramLabel = "FILE", description = "the CA's current CRL (repeatable): an agent whose "
        + "certificate it revokes may not do a step")
    List<Path> crls = List.of();

    @Option(names = "--allow-revoked-agent", description = "do the step although this card's agent certificate has "
        + "expired or is revoked (with a warning)")
    boolean allowRevokedAgent;

    @Option(names = "--force", description = "overwrite the output file")
    boolean force;

    @Option(names = "--accept-lower-threshold", description = "do a rotation's step although it lowers an archive's "
        + "threshold (fewer agents could then recover it): only when that was agreed")
    boolean acceptLowerThreshold;

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      Path file = next != null ? next : Path.of(input + ".next");
      CliFiles.checkWritable(file, force);
      List<X509CertificateHolder> cas = CliFiles.readCertificates(caCert != null ? caCert : CliFiles.defaultCaCert());
      CeremonyStep.Outcome r = pass(w, spec.commandLine().getErr(), card, cas, crls, allowRevokedAgent,
          acceptLowerThreshold, Files.readAllBytes(input));
      CliFiles.write(file, r.work().encoded(), false, force);
      long done = r.work().items().stream().filter(i -> i.result() != null).count();
      w.println("wrote         " + file + " (" + done + " of " + r.work().items().size() + " archives answered"
          + (done == r.work().items().size() ? "; the manager hands it back: keyarc kra submit " + file : "")
          + ")");
      return 0;
    }
  }

  /**
   * One agent's pass with its card over a ceremony file (checked before the PIN: the order, the blobs, the new agents,
   * the threshold): what {@code kra step} and {@code kra step-online} share.
   */
  static CeremonyStep.Outcome pass(PrintWriter w, PrintWriter err, HsmOptions card, List<X509CertificateHolder> cas,
      List<Path> crls, boolean allowRevokedAgent, boolean acceptLowerThreshold, byte[] work) throws Exception {
    List<X509CRLHolder> crlList = new ArrayList<>();
    for (Path f : crls) {
      crlList.add(CliFiles.readCrl(f));
    }
    CeremonyStep.Checked c = CeremonyStep.check(work, cas, crlList, java.time.Instant.now(), acceptLowerThreshold);
    CeremonyOrder o = c.order();
    w.println("ceremony      " + o.kind().word() + " " + o.ceremony() + " over " + c.blobs().size()
        + " archives; the CA's signature checked");
    if (o.kind() == CeremonyOrder.Kind.ROTATION) {
      List<String> names = new ArrayList<>();
      c.newAgents().forEach(a -> names.add(Texts.printable(a.getSubject().toString()) + " (serial "
          + a.getSerialNumber().toString(16) + ")"));
      w.println("re-wraps to   " + o.threshold() + " of " + names.size() + ": " + String.join(", ", names));
      w.println("policy        " + String.join("; ", c.changes()) + " (order valid until " + o.notAfter() + ")");
    }
    try (HsmModule m = card.load()) {
      TokenDescription d = m.find(card.selector());
      w.println("card          " + d.label() + " (serial " + d.serial() + ")");
      RecoverKeyCommand.warnPin(d, err);
      try (HsmToken token = card.open(m, true)) {
        List<Map<Integer, KeyHandle>> onCard = new ArrayList<>();
        boolean any = false;
        for (RecoveryBlob b : c.blobs()) {
          Map<Integer, KeyHandle> mine = RecoveryStep.agentsOn(b, token);
          if (!mine.isEmpty()) {
            RecoverKeyCommand.checkStanding(b, mine.keySet(), cas, crlList, allowRevokedAgent, err);
            any = true;
          }
          onCard.add(mine);
        }
        if (!any) {
          throw new RecoveryException(ErrorCode.KEY_NOT_FOUND, "card '" + d.label() + "' holds the key of no agent "
              + "of these archives; nothing was written");
        }
        CeremonyStep.Outcome r = CeremonyStep.run(c, token, onCard);
        w.println("step          " + r.stepped() + " archive" + (r.stepped() == 1 ? "" : "s") + " stepped, "
            + r.finished() + " finished with this card (key checked against its certificate, written nowhere), "
            + r.waiting() + " waiting for other agents");
        if (!r.next().isEmpty()) {
          w.println("next          " + String.join(" or ", r.next()));
        }
        return r;
      }
    }
  }

  @Command(name = "step-online", mixinStandardHelpOptions = true, description = "Do this agent's step of a rotation "
      + "or drill through the node (a recovery agent, with --cert/--key of its personal certificate and its card): "
      + "fetches the file as the last agent left it, does the step, hands it back; the answers of the archives it "
      + "finishes are checked and stored at once.")
  static final class StepOnline implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ID", description = "the ceremony (kra ceremonies)")
    long id;

    @Mixin
    NodeOptions node;

    @Mixin
    HsmOptions card;

    @Option(names = "--crl", paramLabel = "FILE", description = "the CA's current CRL (repeatable)")
    List<Path> crls = List.of();

    @Option(names = "--allow-revoked-agent", description = "do the step although this card's agent certificate has "
        + "expired or is revoked (the node refuses a revoked one anyway)")
    boolean allowRevokedAgent;

    @Option(names = "--accept-lower-threshold", description = "do a rotation's step although it lowers an archive's "
        + "threshold")
    boolean acceptLowerThreshold;

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      JsonNode material = AdminCall.call(node, AdminCall.request(AdminOp.KRA_CEREMONY_MATERIAL)
          .put(AdminFields.ID, id));
      byte[] work = Base64.getDecoder().decode(material.path(AdminFields.WORK).asText());
      CeremonyStep.Outcome r = pass(w, spec.commandLine().getErr(), card, node.trustedCas(), crls, allowRevokedAgent,
          acceptLowerThreshold, work);
      if (r.stepped() == 0) {
        long answered = r.work().items().stream().filter(i -> i.result() != null).count();
        w.println("nothing for this card now in ceremony " + id + " (" + answered + " of " + r.work().items().size()
            + " archives answered, " + r.waiting() + " waiting for other agents)");
        return 0;
      }
      JsonNode a = AdminCall.call(node, AdminCall.request(AdminOp.KRA_CEREMONY_STEP).put(AdminFields.ID, id)
          .put(AdminFields.VERSION, material.path(AdminFields.VERSION).asInt())
          .put(AdminFields.CARD, card.selector().toString())
          .put(AdminFields.WORK, Base64.getEncoder().encodeToString(r.work().encoded())));
      int[] counts = printOutcomes(w, a, new int[2]);
      int accepted = counts[0];
      int refused = counts[1];
      w.println("handed back   ceremony " + id + " to the node" + (accepted + refused > 0 ? ": " + accepted
          + " accepted, " + refused + " refused" : " for the next agent"));
      return refused > 0 ? ErrorCode.BAD_INPUT.number() : 0;
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true, description = "Hand a ceremony file's answers back to the "
      + "node (certificate manager): a rotation stores the new records, a drill records that the agents passed.")
  static final class Submit implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    NodeOptions node;

    @Parameters(paramLabel = "FILE", description = "the ceremony file after the agents' steps")
    Path input;

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      CeremonyWork work;
      long id;
      try {
        work = CeremonyWork.parse(Files.readAllBytes(input));
        id = CeremonyOrder.parse((byte[]) new CMSSignedData(work.order()).getSignedContent().getContent()).ceremony();
      } catch (IllegalArgumentException | org.bouncycastle.cms.CMSException e) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, input + " is not a ceremony file: " + e.getMessage());
      }
      List<ObjectNode> answers = new ArrayList<>();
      for (CeremonyWork.Item i : work.items()) {
        if (i.result() == null) {
          continue;
        }
        ASN1EncodableVector env = new ASN1EncodableVector();
        i.result().envelopes().forEach(e -> env.add(e.toAsn1()));
        java.math.BigInteger serial = RecoveryBlobSerial.of(i.blob());
        answers.add(AdminCall.JSON.createObjectNode().put(AdminFields.SERIAL, serial.toString(16))
            .put("proofAlgorithm", Base64.getEncoder().encodeToString(i.result().proofAlgorithm().getEncoded()))
            .put("proof", Base64.getEncoder().encodeToString(i.result().proof()))
            .put("envelopes", Base64.getEncoder().encodeToString(new DERSequence(env).getEncoded())));
        ObjectNode last = answers.get(answers.size() - 1);
        if (i.result().verifierProof() != null) {
          last.put("verifierProof", Base64.getEncoder().encodeToString(i.result().verifierProof()));
        }
        if (i.result().newVerifier() != null) {
          last.put("newVerifier", Base64.getEncoder().encodeToString(i.result().newVerifier().toAsn1().getEncoded()));
        }
      }
      if (answers.isEmpty()) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, input + " holds no answer yet: the agents' last steps "
            + "are still to do (" + work.items().size() + " archives)");
      }
      int accepted = 0;
      int refused = 0;
      for (int from = 0; from < answers.size();) {
        ObjectNode req = AdminCall.request(AdminOp.KRA_CEREMONY_SUBMIT).put(AdminFields.ID, id);
        ArrayNode a = req.putArray(AdminFields.ANSWERS);
        long bytes = 0;
        // pages of at most PAGE answers and about 600 KB, under the node's message limits
        while (from < answers.size() && a.size() < PAGE && (a.isEmpty() || bytes + answers.get(from).toString()
            .length() < 600_000)) {
          bytes += answers.get(from).toString().length();
          a.add(answers.get(from++));
        }
        int[] counts = printOutcomes(w, AdminCall.call(node, req), new int[2]);
        accepted += counts[0];
        refused += counts[1];
      }
      int open = work.items().size() - answers.size();
      w.println("ceremony " + id + ": " + accepted + " accepted, " + refused + " refused" + (open > 0 ? ", " + open
          + " still need agents' steps" : ""));
      return refused > 0 ? ErrorCode.BAD_INPUT.number() : 0;
    }
  }

  /** The certificate serial of a blob's archive record (the blob is not checked here: the node checks the answer). */
  static final class RecoveryBlobSerial {
    private RecoveryBlobSerial() {}

    static java.math.BigInteger of(byte[] blob) throws Keyarc.UserException {
      try {
        return org.keyarc.protocol.archive.ArchiveRecord.getInstance((byte[]) new CMSSignedData(blob)
            .getSignedContent().getContent()).certificateSerial();
      } catch (org.bouncycastle.cms.CMSException | RuntimeException e) {
        throw new Keyarc.UserException(ErrorCode.BAD_INPUT, "an archive of the file cannot be read");
      }
    }
  }

  @Command(name = "ceremonies", mixinStandardHelpOptions = true, description = "Agent rotations and drills, or one "
      + "with its archives and how far each got.")
  static final class Ceremonies implements java.util.concurrent.Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    NodeOptions node;

    @Parameters(paramLabel = "ID", arity = "0..1", description = "one ceremony")
    Long id;

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      ObjectNode req = AdminCall.request(AdminOp.KRA_CEREMONY_LIST);
      if (id != null) {
        req.put(AdminFields.ID, id);
      }
      JsonNode r = AdminCall.call(node, req);
      if (id != null) {
        for (JsonNode a : r.path("archives")) {
          w.printf("%-40s %-8s %s%n", a.path("serial").asText(), a.path("status").asText(),
              Texts.printable(a.path("detail").asText()));
        }
        return 0;
      }
      for (JsonNode c : r.path("ceremonies")) {
        w.printf("%-5d %-9s %d of %d done  started %s by %s%n", c.path("id").asLong(), c.path("kind").asText(),
            c.path("done").asInt(), c.path("archives").asInt(), c.path("startedAt").asText(),
            Texts.printable(c.path("startedBy").asText()));
      }
      return 0;
    }
  }
}
