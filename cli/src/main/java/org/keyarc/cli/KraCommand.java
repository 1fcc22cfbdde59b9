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
@Command(name = "kra", description = "Key recovery agents and the archival policy (CA administrator); agent "
    + "rotation and recoverability drills (certificate manager and agents).", mixinStandardHelpOptions = true,
    subcommands = {CeremonyCommands.Rotate.class, CeremonyCommands.Drill.class, CeremonyCommands.Step.class,
        CeremonyCommands.StepOnline.class, CeremonyCommands.Submit.class, CeremonyCommands.Ceremonies.class})
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
      + "CA issued through a certificate manager's approval (not its requester's), whose request carried the card "
      + "evidence of 'kra init-card'. Shows who requested and who approved it, and the evidence.")
  int add(@Mixin NodeOptions node, @ArgGroup(exclusive = true, multiplicity = "1") Which which,
      @Option(names = "--without-card-evidence", description = "accept a certificate whose request carried no card "
          + "evidence, or evidence that does not show a key made on a card (audited)") boolean withoutEvidence)
      throws Exception {
    JsonNode r = AdminCall.call(node, AdminCall.request(AdminOp.KRA_ADD).put(AdminFields.SERIAL, which.serialHex())
        .put(AdminFields.WITHOUT_CARD_EVIDENCE, withoutEvidence));
    PrintWriter out = spec.commandLine().getOut();
    out.println("added recovery agent " + r.path("subject").asText() + " (serial " + r.path("added").asText() + ")");
    out.println("  requested by  " + r.path("requestedBy").asText() + (r.hasNonNull("secretMadeBy")
        ? " (one-time secret made by " + r.path("secretMadeBy").asText() + ")" : "") + ", request "
        + r.path("request").asLong() + ", " + r.path("requestedAt").asText());
    out.println("  approved by   " + r.path("approvedBy").asText() + ", " + r.path("approvedAt").asText());
    out.println("  possession    " + r.path("proofOfPossession").asText());
    JsonNode e = r.path("cardEvidence");
    if (e.isObject()) {
      JsonNode a = e.path("attributes");
      out.println("  card          '" + e.path("tokenLabel").asText() + "' serial " + e.path("tokenSerial").asText()
          + ", " + e.path("manufacturer").asText() + " " + e.path("model").asText() + ", key '"
          + e.path("keyLabel").asText() + "'");
      out.println("  key           CKA_SENSITIVE=" + a.path("CKA_SENSITIVE").asText() + " CKA_EXTRACTABLE="
          + a.path("CKA_EXTRACTABLE").asText() + " CKA_NEVER_EXTRACTABLE=" + a.path("CKA_NEVER_EXTRACTABLE").asText()
          + " CKA_LOCAL=" + a.path("CKA_LOCAL").asText() + " (reported by the agent's client: evidence, not proof)");
      if (!e.path("showsCardKey").asBoolean()) {
        out.println("  WARNING       the evidence does not show a key made on a card; accepted with "
            + "--without-card-evidence");
      }
    } else {
      out.println("  card          NO CARD EVIDENCE: the key may have been made in software; accepted with "
          + "--without-card-evidence");
    }
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
      @Option(names = "--key-label", defaultValue = "kra-key", paramLabel = "LABEL") String keyLabel,
      @Option(names = "--key-id", paramLabel = "HEX", description = "the key's CKA_ID: for a new key, the id to give "
          + "it (ykcs11 names PIV slots by one byte: 03 is slot 9d, key management); with --adopt, the key to take. "
          + "Default: 16 random bytes for a new key") String keyIdHex,
      @Option(names = "--slot", paramLabel = "PIV-SLOT", description = "for a PIV card through ykcs11: make or adopt "
          + "the key in this PIV slot (9d, key management, is the agent's; 9a, 9c, 9e, or a retired 82 to 95), named "
          + "by ykcs11's one-byte CKA_ID; instead of --key-id") String pivSlot,
      @Option(names = "--adopt", description = "take the RSA key --key-id names, already on the card (made with ykman "
          + "piv keys generate or yubico-piv-tool, say), instead of making one; it signs the request, then its "
          + "signing is switched off where the card allows it") boolean adopt,
      @Option(names = "--never-sign", description = "the agent key never signs, not even its own request: a new key "
          + "is made unable to sign (CKA_SIGN=false from the start); it proves possession by decrypting its "
          + "certificate, which the CA returns encrypted to it (RFC 4210 encrCert). With --adopt, the adopted key "
          + "signs nothing either") boolean neverSign)
      throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    byte[] chosenId;
    if (pivSlot != null) {
      if (keyIdHex != null) {
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "give --slot or --key-id, not both");
      }
      keyIdHex = java.util.HexFormat.of().formatHex(new byte[] {pivSlotId(pivSlot)});
    }
    try {
      chosenId = keyIdHex == null ? null : java.util.HexFormat.of().parseHex(keyIdHex.replace(":", ""));
    } catch (IllegalArgumentException e) {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--key-id is hex, such as 03, not '"
          + keyIdHex + "'");
    }
    if (chosenId != null && chosenId.length == 0) {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--key-id is empty");
    }
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
      // named by label and serial: every OpenSC PIV card is labelled PIV_II
      String serial = token.serial() == null ? "" : token.serial().trim();
      Path state = CliFiles.home().resolve("kra-" + token.label() + "-" + serial + ".pending");
      if (resume && !java.nio.file.Files.exists(state)
          && java.nio.file.Files.exists(CliFiles.home().resolve("kra-" + token.label() + ".pending"))) {
        state = CliFiles.home().resolve("kra-" + token.label() + ".pending"); // written before 0.1 named it by serial
      }
      byte[] keyId = null;
      org.keyarc.protocol.client.CmpClient.Result r;
      if (resume) {
        if (!java.nio.file.Files.exists(state)) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.NOT_FOUND, "no pending request for card '"
              + token.label() + "' (" + state + ")");
        }
        JsonNode st = AdminCall.JSON.readTree(java.nio.file.Files.readString(state));
        keyId = st.hasNonNull("keyId") ? java.util.HexFormat.of().parseHex(st.path("keyId").asText()) : null;
        boolean byDecryption = ENCR_CERT.equals(st.path("pop").asText());
        org.bouncycastle.cms.Recipient opener = null;
        if (byDecryption) {
          // the certificate comes back encrypted to the agent key: the card opens it
          byte[] id = keyId;
          org.keyarc.hsm.KeyHandle k = token.call(s -> id != null
              ? s.findKeyById(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, id)
              : s.findKey(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel));
          opener = new org.keyarc.hsm.HsmKeyTransRecipient(token, k);
        }
        r = client.poll(new org.keyarc.protocol.client.CmpClient.Pending(java.util.HexFormat.of().parseHex(
            st.path("transactionId").asText()), 0, byDecryption ? org.bouncycastle.asn1.cmp.PKIBody.TYPE_CERT_REQ
            : org.bouncycastle.asn1.cmp.PKIBody.TYPE_P10_CERT_REQ, 0), java.time.Duration.ZERO, null, opener);
      } else if (neverSign) {
        if (subject == null) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "give --subject (the agent's name)");
        }
        // an adopted key is already on the card: no SO login, so the SO PIN is not even read
        ByDecryption d = requestByDecryption(out, client, token, adopt, chosenId, keyIdHex, keyLabel, subject,
            adopt ? null : card.soPin());
        keyId = d.keyId();
        r = d.result();
      } else {
        if (subject == null) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "give --subject (the agent's name)");
        }
        if (adopt) {
          org.keyarc.hsm.KeyHandle adopted = adoptedKey(token, chosenId);
          java.security.PublicKey pub = token.call(s -> s.publicKey(adopted));
          keyId = adopted.id();
          out.println("key           RSA key adopted from card '" + token.label() + "': pkcs11:token=" + token.label()
              + ";id=" + pctId(keyId) + (adopted.label() == null || adopted.label().isEmpty() ? ""
              : ";object=" + adopted.label()));
          org.bouncycastle.pkcs.PKCS10CertificationRequest csr = agentRequest(out, token, adopted, pub, subject);
          try {
            r = client.p10cr(csr, "KeyRecoveryAgent", false);
          } catch (org.keyarc.protocol.client.CmpClient.Refusal e) {
            // the node keeps nothing for it: the card's own key is given back as it was, signing included
            try {
              token.call(s -> {
                s.restoreSigning(adopted);
                return null;
              });
            } catch (org.keyarc.hsm.HsmException ignored) {
              // a card that would not switch it off will not switch it on either
            }
            throw e;
          }
        } else {
          requireNoAgentKey(token, chosenId, keyIdHex, keyLabel);
          var kp = generateOnCard(token, org.keyarc.hsm.KeyPolicy.RECOVERY_AGENT_ENROLLING, keyLabel, chosenId,
              card.soPin());
          keyId = kp.privateKey().id();
          out.println("key           RSA-2048 made on card '" + token.label() + "' as pkcs11:token=" + token.label()
              + ";object=" + keyLabel + " (sensitive, not extractable)");
          org.bouncycastle.pkcs.PKCS10CertificationRequest csr;
          try {
            csr = agentRequest(out, token, kp.privateKey(), kp.publicKey(), subject);
          } catch (Exception e) {
            throw cardLeftAsItWas(token, kp, e, true); // the card failed half-way: nothing was sent
          }
          try {
            r = client.p10cr(csr, "KeyRecoveryAgent", false);
          } catch (org.keyarc.protocol.client.CmpClient.Refusal e) {
            throw cardLeftAsItWas(token, kp, e, true); // the node refused: it keeps nothing for this key
          } catch (Exception e) {
            // no answer, or one that cannot be trusted: the node may hold the request, so the key stays
            throw cardLeftAsItWas(token, kp, e, false);
          }
        }
      }
      if (r.pending() != null) {
        var pending = AdminCall.JSON.createObjectNode().put("transactionId", r.pending().transactionHex())
            .put("keyId", java.util.HexFormat.of().formatHex(keyId));
        if (neverSign) {
          pending.put("pop", ENCR_CERT);
        }
        CliFiles.write(state, pending.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), false, true);
        out.println("pending       the Key Recovery Agent request waits for a certificate manager; then run "
            + "'keyarc kra init-card --resume' with this card");
        return 0;
      }
      var cert = r.enrolled().cert();
      var x509 = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(cert);
      org.keyarc.hsm.KeyHandle key = agentKeyOf(token, keyId, keyLabel, x509.getPublicKey());
      String stored;
      char[] soPin = card.soPin();
      try {
        org.keyarc.hsm.HsmToken.SessionWork<Void> store = s -> {
          s.storeCertificate(key, x509);
          return null;
        };
        if (soPin != null) {
          token.asSecurityOfficer(soPin, store); // ykcs11 stores certificates only with the management key
        } else {
          token.call(store);
        }
        stored = ", stored on card '" + token.label() + "'";
      } catch (org.keyarc.hsm.HsmException e) {
        // optional: ykcs11 stores certificates only with the management key; recovery finds the key by its public key
        if (outCert == null) {
          throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.of(e.reason()), "card '" + token.label()
              + "' does not take the certificate (" + e.getMessage() + "); run again with --resume --out-cert FILE "
              + "to keep it in a file" + (soPin == null ? ", or with --so-pin-file FILE where the card stores it "
              + "only for its security officer (ykcs11: the management key)" : ""));
        }
        stored = ", not stored on card '" + token.label() + "' (" + e.getMessage() + ")";
      } finally {
        org.keyarc.hsm.HsmToken.wipe(soPin);
      }
      java.nio.file.Files.deleteIfExists(state);
      if (outCert != null) {
        CliFiles.write(outCert, CliFiles.pem(cert).getBytes(java.nio.charset.StandardCharsets.US_ASCII), false, true);
      }
      out.println("certificate   " + cert.getSubject() + ", serial " + cert.getSerialNumber().toString(16)
          + stored + (outCert != null ? " and in " + outCert : ""));
      out.println("next          the CA administrator adds it: keyarc kra add --serial "
          + cert.getSerialNumber().toString(16));
      return 0;
    }
  }

  /**
   * The agent's PKCS#10, signed once by the agent key on the card, with the card's evidence; then the key's signing
   * is switched off and checked with a trial signature (a card that refuses or ignores it is named in a warning).
   */
  private static org.bouncycastle.pkcs.PKCS10CertificationRequest agentRequest(PrintWriter out,
      org.keyarc.hsm.HsmToken token, org.keyarc.hsm.KeyHandle key, java.security.PublicKey publicKey, String subject)
      throws Exception {
    // what the card says about the key, carried in the request the key signs (evidence, not proof)
    org.keyarc.protocol.CardEvidence evidence = org.keyarc.protocol.CardEvidence.read(token, key);
    org.bouncycastle.asn1.pkcs.Attribute attr = evidence.attribute();
    org.bouncycastle.pkcs.PKCS10CertificationRequest csr = new org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder(
        org.keyarc.ca.config.X500Subject.parse(subject), org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
            publicKey.getEncoded())).addAttribute(attr.getAttrType(), attr.getAttributeValues())
        .build(org.keyarc.hsm.HsmSigners.iaik(token).signer(key, org.keyarc.hsm.SignatureAlgorithm.SHA256_WITH_RSA));
    String refused = token.call(s -> {
      try {
        s.forbidSigning(key);
        return null;
      } catch (org.keyarc.hsm.HsmException e) {
        return e.getMessage(); // a PIV card fixes its keys' attributes (ykcs11: CKR_ATTRIBUTE_READ_ONLY)
      }
    });
    if (refused != null) {
      out.println("warning: card '" + token.label() + "' does not let CKA_SIGN be turned off (" + refused + "); "
          + "keyarc never signs with the agent key, but the card would");
    } else if (token.call(s -> s.stillSigns(key))) {
      out.println("warning: card '" + token.label() + "' still signs with the agent key after CKA_SIGN was "
          + "turned off (its PKCS#11 module accepts the setting but does not enforce it); keyarc never signs "
          + "with it, but the card would");
    } else {
      out.println("signing       switched off: the agent key can only decrypt/unwrap from now on (checked)");
    }
    out.println("evidence      " + evidence.summary() + " (sent with the request)");
    return csr;
  }

  /**
   * A new RSA-2048 agent key pair on the card. A card whose module makes no keys (OpenSC's PIV driver; ykcs11
   * without the management key) is told how to make one with its own tool and adopt it.
   */
  private static org.keyarc.hsm.HsmSession.GeneratedKeyPair generateOnCard(org.keyarc.hsm.HsmToken token,
      org.keyarc.hsm.KeyPolicy policy, String keyLabel, byte[] chosenId, char[] soPin) throws Exception {
    org.keyarc.hsm.HsmToken.SessionWork<org.keyarc.hsm.HsmSession.GeneratedKeyPair> make =
        s -> s.generateKeyPair(org.keyarc.hsm.KeySpec.RSA_2048, policy, keyLabel, chosenId);
    try {
      // a module that makes keys only for its security officer (ykcs11, with the PIV management key as SO PIN)
      if (soPin == null) {
        return token.call(make);
      }
      org.keyarc.hsm.HsmSession.GeneratedKeyPair made = token.asSecurityOfficer(soPin, make);
      // object handles need not outlive the logout (SoftHSM2 drops those of private objects): found again by id
      byte[] id = made.privateKey().id();
      return token.call(s -> new org.keyarc.hsm.HsmSession.GeneratedKeyPair(
          s.findKeyById(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, id),
          s.findKeyById(org.keyarc.hsm.KeyHandle.KeyClass.PUBLIC, id), made.publicKey()));
    } catch (org.keyarc.hsm.HsmException e) {
      if (soPin == null && (e.ckr() == org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_USER_NOT_LOGGED_IN
          || e.ckr() == org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_USER_TYPE_INVALID)) {
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.PIN_REQUIRED, "card '" + token.label()
            + "' makes key pairs only for its security officer (ykcs11: the PIV management key as SO PIN): give "
            + "--so-pin-file FILE or $KEYARC_SO_PIN; nothing was made");
      }
      if (e.ckr() == org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_ATTRIBUTE_VALUE_INVALID) {
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "card '" + token.label()
            + "' does not take a key with " + (chosenId == null ? "a random 16-byte CKA_ID"
            : "CKA_ID " + java.util.HexFormat.of().formatHex(chosenId)) + " (C_GenerateKeyPair: "
            + org.keyarc.hsm.HsmException.ckrName(e.ckr()) + "): a PIV card through ykcs11 names its key slots by "
            + "one byte; give --slot 9d (the key-management slot); nothing was made");
      }
      if (!e.functionNotSupported()) {
        throw e;
      }
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.MECHANISM_NOT_SUPPORTED, "card '" + token.label()
          + "' makes no key pairs through PKCS#11 (C_GenerateKeyPair: CKR_FUNCTION_NOT_SUPPORTED): make the key on "
          + "the card with its own tool (a PIV card: ykman piv keys generate --algorithm RSA2048 9d pub.pem, or "
          + "yubico-piv-tool -a generate -s 9d -A RSA2048), then run init-card again with --adopt --key-id 03; "
          + "nothing was made");
    } finally {
      org.keyarc.hsm.HsmToken.wipe(soPin);
    }
  }

  /**
   * ykcs11's CKA_ID of a PIV slot: 9a → 01, 9c → 02, 9d → 03 (key management, the agent's), 9e → 04, the retired
   * key-management slots 82 to 95 → 05 to 18.
   */
  static byte pivSlotId(String slot) throws Keyarc.UserException {
    String v = slot.trim().toLowerCase(java.util.Locale.ROOT);
    int n = v.matches("[89][0-9a-f]") ? Integer.parseInt(v, 16) : -1;
    if (n == 0x9a || n == 0x9c || n == 0x9d || n == 0x9e) {
      return (byte) (n == 0x9a ? 1 : n - 0x9a); // 9c → 02, 9d → 03, 9e → 04
    }
    if (n >= 0x82 && n <= 0x95) {
      return (byte) (n - 0x82 + 5);
    }
    throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "--slot is a PIV key slot: 9a, 9c, 9d "
        + "(key management, the agent's), 9e, or a retired one 82 to 95; not '" + slot + "'");
  }

  /** Refuses a card that already holds the key a new one would be: by the chosen CKA_ID, else by label. */
  private static void requireNoAgentKey(org.keyarc.hsm.HsmToken token, byte[] chosenId, String keyIdHex,
      String keyLabel) throws Exception {
    org.keyarc.hsm.KeyHandle existing = token.call(s -> chosenId != null
        ? s.findKeyByIdOrNull(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, chosenId)
        : s.findKeyOrNull(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel));
    if (existing != null) {
      throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.BAD_INPUT, "card '" + token.label()
          + "' already holds " + (chosenId != null ? "a key with id " + keyIdHex : "an agent key labelled '"
          + keyLabel + "'") + "; use --resume, --adopt, or another card");
    }
  }

  /** The pending file's {@code pop} of a request whose key proves possession by decryption. */
  private static final String ENCR_CERT = "encrCert";

  /** A request by decryption: the agent key's CKA_ID and the node's first answer. */
  private record ByDecryption(byte[] keyId, org.keyarc.protocol.client.CmpClient.Result result) {}

  /**
   * {@code --never-sign}: a new key made unable to sign (or the adopted one, which signs nothing), its card evidence
   * in the request's regInfo, and a cr whose proof of possession is the certificate's decryption (encrCert). A new key
   * is removed again when the card fails before sending or the node refuses, as for the signed request.
   */
  private static ByDecryption requestByDecryption(PrintWriter out, org.keyarc.protocol.client.CmpClient client,
      org.keyarc.hsm.HsmToken token, boolean adopt, byte[] chosenId, String keyIdHex, String keyLabel, String subject,
      char[] soPin) throws Exception {
    org.keyarc.hsm.KeyHandle key;
    java.security.PublicKey pub;
    org.keyarc.hsm.HsmSession.GeneratedKeyPair kp = null;
    if (adopt) {
      key = adoptedKey(token, chosenId);
      org.keyarc.hsm.KeyHandle k = key;
      pub = token.call(s -> s.publicKey(k));
      out.println("key           RSA key adopted from card '" + token.label() + "': pkcs11:token=" + token.label()
          + ";id=" + pctId(key.id()) + " (it signs nothing: possession is proven by decryption)");
    } else {
      requireNoAgentKey(token, chosenId, keyIdHex, keyLabel);
      org.keyarc.hsm.HsmSession.GeneratedKeyPair made = generateOnCard(token, org.keyarc.hsm.KeyPolicy.RECOVERY_AGENT,
          keyLabel, chosenId, soPin);
      kp = made;
      key = made.privateKey();
      pub = made.publicKey();
      out.println("key           RSA-2048 made on card '" + token.label() + "' as pkcs11:token=" + token.label()
          + ";object=" + keyLabel + " (sensitive, not extractable, unable to sign from the start)");
    }
    org.bouncycastle.asn1.crmf.AttributeTypeAndValue evidence;
    try {
      org.keyarc.hsm.KeyHandle k = key;
      if (token.call(s -> s.stillSigns(k))) {
        out.println(adopt ? "warning: card '" + token.label() + "' lets the adopted key sign (its own policy "
            + "decides); keyarc never signs with it" : "warning: card '" + token.label() + "' signs with the agent key "
            + "although CKA_SIGN is false (its PKCS#11 module does not enforce it); keyarc never signs with it, but "
            + "the card would");
      } else {
        out.println("signing       refused by the card: the agent key can only decrypt/unwrap (checked)");
      }
      org.keyarc.protocol.CardEvidence e = org.keyarc.protocol.CardEvidence.read(token, key);
      out.println("evidence      " + e.summary() + " (sent with the request)");
      evidence = e.regInfo();
    } catch (Exception e) {
      throw kp == null ? e : cardLeftAsItWas(token, kp, e, true);
    }
    org.keyarc.protocol.client.CmpClient.Result r;
    try {
      r = client.enrollByDecryption(org.bouncycastle.asn1.cmp.PKIBody.TYPE_CERT_REQ,
          org.keyarc.ca.config.X500Subject.parse(subject), org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
              pub.getEncoded()), "KeyRecoveryAgent", new org.bouncycastle.asn1.crmf.AttributeTypeAndValue[] {evidence},
          new org.keyarc.hsm.HsmKeyTransRecipient(token, key));
    } catch (org.keyarc.protocol.client.CmpClient.Refusal e) {
      throw kp == null ? e : cardLeftAsItWas(token, kp, e, true); // the node refused: it keeps nothing for it
    } catch (Exception e) {
      throw kp == null ? e : cardLeftAsItWas(token, kp, e, false); // the node may hold the request: the key stays
    }
    return new ByDecryption(key.id(), r);
  }

  /**
   * The key {@code --adopt} takes: the RSA private key with CKA_ID {@code id}; never by label or by guess (without an
   * id the error lists the card's RSA keys).
   */
  private static org.keyarc.hsm.KeyHandle adoptedKey(org.keyarc.hsm.HsmToken token, byte[] id) throws Exception {
    if (id != null) {
      org.keyarc.hsm.KeyHandle k = token.call(s -> s.findKeyById(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, id));
      if (k.keyType() != org.keyarc.hsm.KeyHandle.KeyType.RSA) {
        throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.KEY_NOT_ALLOWED, "the key with id "
            + java.util.HexFormat.of().formatHex(id) + " on card '" + token.label() + "' is " + k.keyType()
            + "; a recovery agent's key is RSA (the archives' envelopes are RSA-OAEP)");
      }
      return k;
    }
    // never a guess, even with one RSA key on the card: on a PIV card it may be the authentication key (slot 9a)
    java.util.List<org.keyarc.hsm.KeyHandle> rsa = new java.util.ArrayList<>();
    for (org.keyarc.hsm.KeyHandle k : token.call(org.keyarc.hsm.HsmSession::listKeys)) {
      if (k.keyClass() == org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE
          && k.keyType() == org.keyarc.hsm.KeyHandle.KeyType.RSA) {
        rsa.add(k);
      }
    }
    throw new Keyarc.UserException(org.keyarc.protocol.ErrorCode.KEY_NOT_FOUND, "name the key to adopt with "
        + "--key-id: card '" + token.label() + "' holds " + rsa.size() + " RSA private keys" + (rsa.isEmpty() ? ""
        : " (ids " + rsa.stream().map(k -> java.util.HexFormat.of().formatHex(k.id()))
        .collect(java.util.stream.Collectors.joining(", ")) + ")"));
  }

  /** A CKA_ID as a PKCS#11 URI writes it (RFC 7512: %xx per byte). */
  private static String pctId(byte[] id) {
    StringBuilder b = new StringBuilder();
    for (byte x : id) {
      b.append('%').append(String.format("%02x", x & 0xff));
    }
    return b.toString();
  }

  /**
   * The error for a failure after a new key pair was made. With {@code remove} (the card failed before sending, or
   * the node refused) the pair is destroyed, so a rerun finds the card as it was; otherwise (the node may hold the
   * request) it stays. The error says which, and what is left and how to remove it.
   */
  private static Exception cardLeftAsItWas(org.keyarc.hsm.HsmToken token,
      org.keyarc.hsm.HsmSession.GeneratedKeyPair kp, Exception e, boolean remove) {
    String id = java.util.HexFormat.of().formatHex(kp.privateKey().id());
    String removal = "pkcs11-tool --login --delete-object --type privkey --id " + id + " (and --type pubkey)";
    String note;
    if (!remove) {
      // never destroy a key the node may already hold a request for: approved, it would become an agent whose
      // key is gone, and every archive made for it unrecoverable
      note = "; the request may have reached the node, so card '" + token.label() + "' keeps the new key pair (id "
          + id + "): ask a certificate manager to deny a pending KeyRecoveryAgent request for this agent, then "
          + "remove the pair with " + removal + " and run init-card again";
    } else {
      try {
        token.call(s -> {
          s.destroy(kp.privateKey());
          s.destroy(kp.publicKeyObject());
          return null;
        });
        note = "; the new key pair was removed, card '" + token.label() + "' is as it was";
      } catch (Exception cleanup) {
        note = "; card '" + token.label() + "' still holds the new key pair (id " + id + "), remove it with " + removal;
      }
    }
    if (e instanceof org.keyarc.hsm.HsmException h) {
      return new Keyarc.UserException(org.keyarc.protocol.ErrorCode.of(h.reason()), h.getMessage() + note);
    }
    if (e instanceof org.keyarc.protocol.KeyarcException k) {
      return new Keyarc.UserException(k.code(), k.getMessage() + note);
    }
    return new IllegalStateException(e.getMessage() + note, e);
  }

  /**
   * The agent key a certificate was issued for: by the CKA_ID the request recorded (labels are not kept by every
   * card: ykcs11 ignores them), else the one private key on the card whose public key is the certificate's; the
   * certificate must be for that key.
   */
  private static org.keyarc.hsm.KeyHandle agentKeyOf(org.keyarc.hsm.HsmToken token, byte[] keyId, String keyLabel,
      java.security.PublicKey certKey) throws Exception {
    org.keyarc.hsm.KeyHandle found = token.call(s -> {
      org.keyarc.hsm.KeyHandle k = keyId != null ? s.findKeyById(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyId)
          : s.findKeyOrNull(org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE, keyLabel);
      if (k != null && s.matchesPublicKey(k, certKey)) {
        return k;
      }
      for (org.keyarc.hsm.KeyHandle other : s.listKeys()) {
        if (other.keyClass() == org.keyarc.hsm.KeyHandle.KeyClass.PRIVATE && s.matchesPublicKey(other, certKey)) {
          return other;
        }
      }
      throw new org.keyarc.hsm.HsmException(org.keyarc.hsm.HsmException.Reason.KEY_NOT_FOUND, "find key",
          token.label(), "card '" + token.label() + "' holds no private key for the certificate's public key");
    });
    // the modulus a PIV module reports may come from the slot's metadata: the card proves it holds the private
    // half by decrypting a random secret sent to the certificate's key, as the archives' envelopes will be
    byte[] secret = new byte[32];
    new java.security.SecureRandom().nextBytes(secret);
    byte[] sent = org.keyarc.hsm.HsmSession.softwareOaep(certKey, org.keyarc.hsm.OaepHash.SHA1, secret);
    byte[] back = token.call(s -> s.decryptOaep(found, org.keyarc.hsm.OaepHash.SHA1, sent));
    if (!java.security.MessageDigest.isEqual(secret, back)) {
      throw new org.keyarc.hsm.HsmException(org.keyarc.hsm.HsmException.Reason.KEY_NOT_FOUND, "C_Decrypt",
          token.label(), "the key on card '" + token.label() + "' does not decrypt what is sent to the certificate's "
          + "public key: the certificate is not for this card's key");
    }
    return found;
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
    for (JsonNode w : r.path("warnings")) {
      out.println("WARNING: " + w.asText());
    }
    return 0;
  }
}
