package org.keyarc.cli;

import com.fasterxml.jackson.databind.JsonNode;
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

/** {@code keyarc kra add|list|remove|policy}: the recovery agents archived keys are encrypted to (administrator). */
@Command(name = "kra", description = "Key recovery agents and the archival policy (CA administrator).",
    mixinStandardHelpOptions = true)
final class KraCommand {
  @Spec
  CommandSpec spec;

  /** An agent named by its certificate file or its serial. */
  static final class Which {
    @Parameters(paramLabel = "CERT", arity = "0..1", description = "the agent's certificate (PEM or DER)")
    Path cert;

    @Option(names = "--serial", paramLabel = "HEX", description = "the agent certificate's serial")
    String serial;

    String serialHex() throws Keyarc.UserException {
      if (serial != null) {
        return serial;
      }
      return CliFiles.readCertificate(cert).getSerialNumber().toString(16);
    }
  }

  @Command(name = "add", description = "Add a recovery agent: a valid, unrevoked KeyRecoveryAgent certificate this "
      + "CA issued.")
  int add(@Mixin NodeOptions node, @ArgGroup(exclusive = true, multiplicity = "1") Which which) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.KRA_ADD).put(AdminFields.SERIAL, which.serialHex()));
    spec.commandLine().getOut().println("added recovery agent " + r.path("subject").asText() + " (serial "
        + r.path("added").asText() + ")");
    return 0;
  }

  @Command(name = "remove", description = "Remove a recovery agent (keys archived before stay encrypted to it).")
  int remove(@Mixin NodeOptions node, @ArgGroup(exclusive = true, multiplicity = "1") Which which) throws Exception {
    AdminCall.call(node, AdminCall.request(AdminOp.KRA_REMOVE).put(AdminFields.SERIAL, which.serialHex()));
    spec.commandLine().getOut().println("removed recovery agent " + which.serialHex());
    return 0;
  }

  @Command(name = "policy", description = "Set N (agents each archived key is encrypted for) and M (agents needed to "
      + "recover it).")
  int policy(@Mixin NodeOptions node, @Option(names = "--agents", required = true, paramLabel = "N") int agents,
      @Option(names = "--threshold", required = true, paramLabel = "M") int threshold) throws Exception {
    AdminCall.call(node, AdminCall.request(AdminOp.KRA_POLICY).put(AdminFields.AGENTS, agents)
        .put(AdminFields.THRESHOLD, threshold));
    spec.commandLine().getOut().println("archival policy: each key encrypted for " + agents
        + (agents == 1 ? " agent, " : " agents, ") + threshold + " needed to recover it");
    return 0;
  }

  @Command(name = "init-card", description = "Make this agent's key pair ON THE CARD (RSA-2048, sensitive, not "
      + "extractable; after it signs its own PKCS#10 it can only decrypt/unwrap) and request a KeyRecoveryAgent "
      + "certificate, which waits for a certificate manager. Run again with --resume to collect the certificate: "
      + "it is stored on the card next to the key.")
  int initCard(@Mixin NodeOptions node, @Mixin HsmOptions card,
      @Option(names = "--subject", paramLabel = "DN", description = "the agent's name") String subject,
      @Option(names = "--ref", paramLabel = "REF", description = "the reference of a one-time secret for template "
          + "KeyRecoveryAgent, made by a manager or administrator (the only way to enroll on it by default)")
          String ref,
      @Option(names = "--secret-file", paramLabel = "FILE") Path secretFile,
      @Option(names = "--resume", description = "collect the certificate of the pending request") boolean resume,
      @Option(names = "--out-cert", paramLabel = "FILE", description = "also write the certificate here (PEM)")
          Path outCert,
      @Option(names = "--key-label", defaultValue = "kra-key", paramLabel = "LABEL") String keyLabel)
      throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    org.keyarc.protocol.client.Protection protection;
    if (ref != null) {
      if (secretFile == null) {
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.SECRET_INVALID, "give --secret-file with --ref");
      }
      protection = new org.keyarc.protocol.client.Protection.Mac(ref, org.keyarc.hsm.PinSource.fromFile(secretFile),
          false);
    } else if (node.cert != null && node.key != null) {
      protection = new org.keyarc.protocol.client.Protection.Signature(CliFiles.readCertificate(node.cert),
          CliFiles.readPrivateKey(node.key), null);
    } else {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.NOT_AUTHORIZED, "protect the request with a "
          + "one-time secret (--ref, --secret-file) or your certificate (--cert, --key)");
    }
    try (org.keyarc.hsm.HsmModule m = card.load(); org.keyarc.hsm.HsmToken token = card.open(m, true);
        org.keyarc.protocol.client.CmpClient client = new org.keyarc.protocol.client.CmpClient(
            node.transport(null), protection, node.trustedCa(false))) {
      Path state = CliFiles.home().resolve("kra-" + token.label() + ".pending");
      org.keyarc.protocol.client.CmpClient.Result r;
      if (resume) {
        if (!java.nio.file.Files.exists(state)) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.NOT_FOUND, "no pending request for card '"
              + token.label() + "' (" + state + ")");
        }
        JsonNode st = AdminCall.JSON.readTree(java.nio.file.Files.readString(state));
        r = client.poll(new org.keyarc.protocol.client.CmpClient.Pending(java.util.HexFormat.of().parseHex(
            st.path("transactionId").asText()), 0, org.bouncycastle.asn1.cmp.PKIBody.TYPE_P10_CERT_REQ, 0),
            java.time.Duration.ZERO, null);
      } else {
        if (subject == null) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "give --subject (the agent's name)");
        }
        org.keyarc.hsm.KeyHandle existing = token.call(s -> s.findKeyOrNull(
            org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel));
        if (existing != null) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "card '" + token.label()
              + "' already holds an agent key labelled '" + keyLabel + "'; use --resume, or another card");
        }
        var kp = token.call(s -> s.generateKeyPair(org.keyarc.hsm.KeySpec.RSA_2048,
            org.keyarc.hsm.KeyPolicy.RECOVERY_AGENT_ENROLLING, keyLabel));
        org.bouncycastle.pkcs.PKCS10CertificationRequest csr = new org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder(
            org.keyarc.ca.config.X500Subject.parse(subject), org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
                kp.publicKey().getEncoded())).build(org.keyarc.hsm.HsmSigners.iaik(token).signer(kp.privateKey(),
                    org.keyarc.hsm.SignatureAlgorithm.SHA256_WITH_RSA));
        token.call(s -> {
          s.forbidSigning(kp.privateKey());
          return null;
        });
        out.println("key           RSA-2048 made on card '" + token.label() + "' as pkcs11:token=" + token.label()
            + ";object=" + keyLabel + " (not extractable; decrypt/unwrap only from now on)");
        r = client.p10cr(csr, "KeyRecoveryAgent", false);
      }
      if (r.pending() != null) {
        CliFiles.write(state, AdminCall.JSON.createObjectNode().put("transactionId", r.pending().transactionHex())
            .toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), false, true);
        out.println("pending       the Key Recovery Agent request waits for a certificate manager; then run "
            + "'keyarc kra init-card --resume' with this card");
        return 0;
      }
      var cert = r.enrolled().cert();
      org.keyarc.hsm.KeyHandle key = token.call(s -> s.findKey(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel));
      var x509 = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(cert);
      token.call(s -> {
        s.storeCertificate(key, x509);
        return null;
      });
      java.nio.file.Files.deleteIfExists(state);
      if (outCert != null) {
        CliFiles.write(outCert, CliFiles.pem(cert).getBytes(java.nio.charset.StandardCharsets.US_ASCII), false, true);
      }
      out.println("certificate   " + cert.getSubject() + ", serial " + cert.getSerialNumber().toString(16)
          + ", stored on card '" + token.label() + "'" + (outCert != null ? " and in " + outCert : ""));
      out.println("next          the CA administrator adds it: keyarc kra add --serial "
          + cert.getSerialNumber().toString(16));
      return 0;
    }
  }

  @Command(name = "list", description = "The agents, whether each is usable, and the policy.")
  int list(@Mixin NodeOptions node, @Option(names = "--json") boolean json) throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.KRA_LIST));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toPrettyString());
      return 0;
    }
    out.println("policy: " + r.path("threshold").asInt() + " of " + r.path("agents").asInt() + " agents");
    int valid = 0;
    for (JsonNode a : r.path("recoveryAgents")) {
      boolean ok = a.path("valid").asBoolean();
      valid += ok ? 1 : 0;
      out.printf("  %-42s %-28s %s%n", a.path("serial").asText(), a.path("subject").asText(),
          ok ? "valid until " + a.path("notAfter").asText() : "INVALID: " + a.path("problem").asText());
    }
    if (valid < r.path("agents").asInt()) {
      out.println("WARNING: only " + valid + " valid agents; archival needs " + r.path("agents").asInt()
          + " and is refused until then");
    }
    return 0;
  }
}
