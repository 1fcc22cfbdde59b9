package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.KeyPair;
import java.util.List;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.attack.Actors.Party;
import org.keyarc.ca.attack.Actors.Secret;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.protocol.ErrorCode;

/**
 * Issue 12's "a manager can approve his own KeyRecoveryAgent request, made with a software key; kra add takes
 * it silently; with a 1-of-2 policy that manager then recovered a user's key alone". Each step is now refused
 * where it should be: the manager cannot approve a request made with a secret he made (FOUR_EYES), nor one of
 * a puppet he enrolled; kra add takes only a KeyRecoveryAgent certificate issued through an approval, and only
 * with the card evidence of {@code kra init-card} unless the administrator says otherwise (audited).
 */
class FourEyesAttackE2eTest {
  static TestCa ca;
  static Party ada;
  static Party max;
  static Party mia;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      NodeConfig.TemplateCfg quick = new NodeConfig.TemplateCfg();
      quick.name = "QuickAgent"; // an agent's EKU on a template that needs no approval
      quick.keyUsage = List.of("keyEncipherment");
      quick.extendedKeyUsage = List.of("keyRecoveryAgent");
      quick.ecCurves = List.of();
      cfg.templates.add(quick);
      NodeConfig.TemplateCfg reviewed = new NodeConfig.TemplateCfg();
      reviewed.name = "Reviewed"; // any approval template
      reviewed.requiresApproval = true;
      // who may enroll on it (template permissions): its own secrets, and holders of User certificates
      reviewed.enroll = new NodeConfig.EnrollCfg();
      reviewed.enroll.holdersOf = List.of("User");
      cfg.templates.add(reviewed);
    });
    ada = Actors.administrator(ca, "CN=Ada Admin");
    max = Actors.member(ca, ada, "CN=Max Manager", "manager");
    mia = Actors.member(ca, ada, "CN=Mia Manager", "manager");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static long pendingId(Party manager, String subject) throws Exception {
    for (JsonNode r : Actors.ok(ca, manager, "{\"op\":\"request.list\",\"status\":\"pending\"}").path("requests")) {
      if (r.path("subject").asText().equals(subject)) {
        return r.path("id").asLong();
      }
    }
    throw new AssertionError("no pending request for " + subject);
  }

  private static PKIMessage approve(Party manager, long id) throws Exception {
    return Actors.admin(ca, manager, "{\"op\":\"request.approve\",\"id\":" + id + "}");
  }

  private static PKIMessage kraAdd(String serial, boolean withoutEvidence) throws Exception {
    return Actors.admin(ca, ada, Actors.JSON.createObjectNode().put("op", "kra.add").put("serial", serial)
        .put("withoutCardEvidence", withoutEvidence).toString());
  }

  /** The PKCS#10 attribute keyarc's kra init-card sends, written from docs/recovery.md by the attacker. */
  private static Attribute evidence(boolean sensitive, boolean extractable, boolean neverExtractable, boolean local) {
    ASN1Encodable[] attrs = {new DERTaggedObject(false, 0, ASN1Boolean.getInstance(sensitive)),
        new DERTaggedObject(false, 1, ASN1Boolean.getInstance(extractable)),
        new DERTaggedObject(false, 2, ASN1Boolean.getInstance(sensitive)),
        new DERTaggedObject(false, 3, ASN1Boolean.getInstance(neverExtractable)),
        new DERTaggedObject(false, 4, ASN1Boolean.getInstance(local))};
    return new Attribute(Wire.KEYARC_CARD_EVIDENCE, new DERSet(new DERSequence(new ASN1Encodable[] {
        new ASN1Integer(1), new DERUTF8String("soft-card"), new DERUTF8String("0001"), new DERUTF8String("Nobody"),
        new DERUTF8String("Software"), new DERUTF8String("kra-key"), new DERSequence(attrs)})));
  }

  /** A Key Recovery Agent request with a software RSA key, MAC-protected with {@code secret}: it waits. */
  private static byte[] agentRequest(Secret secret, String subject, Attribute... attributes) throws Exception {
    return agentRequest(secret, subject, TestCa.rsaKey(2048), attributes);
  }

  /** The same with the key {@code kp}. */
  private static byte[] agentRequest(Secret secret, String subject, KeyPair kp, Attribute... attributes)
      throws Exception {
    byte[] tx = Wire.nonce();
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.p10cr(secret.mac(), tx, Wire.csr(new X500Name(subject), kp, attributes));
      assertEquals(3, Wire.status(a), "the request waits for a manager: " + Wire.text(a));
    }
    return tx;
  }

  @Test
  void theSingleManagerRecoveryStoryFailsWhereItShould() throws Exception {
    Actors.ok(ca, ada, "{\"op\":\"kra.policy\",\"agents\":2,\"threshold\":1}");
    // 1. Max makes a Key Recovery Agent secret for himself and requests the certificate with a software key
    Secret s = Actors.secret(ca, max, "KeyRecoveryAgent", "CN=Max Agent");
    byte[] tx = agentRequest(s, "CN=Max Agent");
    long id = pendingId(max, "CN=Max Agent");
    // 2. he approves it himself: FOUR_EYES, nothing issued, audited
    long[] before = Actors.state(ca);
    PKIMessage own = approve(max, id);
    assertEquals(ErrorCode.FOUR_EYES.number(), Wire.code(own), Wire.text(own));
    assertEquals("CN=Max Manager cannot approve request " + id + ": it is its requester, or made the one-time secret "
        + "the request used; another certificate manager must approve it (nothing was issued)", Wire.message(own));
    Actors.assertNothingStored(before, ca);
    assertEquals("PENDING", Actors.ok(ca, mia, "{\"op\":\"request.show\",\"id\":" + id + "}").path("request")
        .path("status").asText());
    assertTrue(Actors.lastAudit(ca, "authz.refused").startsWith("CN=Max Manager | admin request.approve | code=62"),
        Actors.lastAudit(ca, "authz.refused"));
    // nor can he be both manager and recovery agent
    PKIMessage role = Actors.admin(ca, ada, "{\"op\":\"role.grant\",\"role\":\"recovery_agent\",\"serial\":\""
        + max.serial() + "\"}");
    assertEquals(ErrorCode.ROLE_CONFLICT.number(), Wire.code(role), Wire.text(role));

    // 3. a second manager approves (four eyes held); the certificate's key was never on a card
    JsonNode approved = Actors.ok(ca, mia, "{\"op\":\"request.approve\",\"id\":" + id + "}");
    String serial = approved.path("serial").asText();
    JsonNode shown = Actors.ok(ca, mia, "{\"op\":\"request.show\",\"id\":" + id + "}").path("request");
    assertTrue(shown.has("cardEvidence") && shown.get("cardEvidence").isNull(), shown.toString());
    // 4. kra add refuses it: no card evidence
    long agentsBefore = Actors.rows(ca, "recovery_agent");
    PKIMessage add = kraAdd(serial, false);
    assertEquals(ErrorCode.BAD_REQUEST.number(), Wire.code(add), Wire.text(add));
    assertTrue(Wire.message(add).contains("carried no card evidence: its key may have been made in software"),
        Wire.message(add));
    assertEquals(agentsBefore, Actors.rows(ca, "recovery_agent"));
    assertTrue(Actors.lastAudit(ca, "kra.add.refused").startsWith("CN=Ada Admin | serial:" + serial + " | code=30"),
        Actors.lastAudit(ca, "kra.add.refused"));
    // only the administrator's explicit, audited decision adds it; the answer names who asked and who approved
    JsonNode added = Actors.JSON.readTree(Wire.adminAnswer(kraAdd(serial, true)));
    assertEquals("secret:" + s.reference(), added.path("requestedBy").asText());
    assertEquals("CN=Max Manager", added.path("secretMadeBy").asText());
    assertEquals("CN=Mia Manager", added.path("approvedBy").asText());
    assertTrue(added.path("cardEvidence").isNull(), added.toString());
    assertTrue(Actors.lastAudit(ca, "kra.add").contains("cardEvidence=none accepted=--without-card-evidence"),
        Actors.lastAudit(ca, "kra.add"));
    // and the poll of the transaction belongs to the secret that started it, not to the manager
    try (Wire w = Actors.wire(ca)) {
      PKIMessage poll = w.pollReq(max.sig(), tx);
      assertEquals(ErrorCode.NOT_AUTHORIZED.number(), Wire.code(poll), Wire.text(poll));
      assertNotNull(Wire.granted(w.pollReq(s.mac(), tx)), "the requester collects it");
    }
  }

  @Test
  void aManagersPuppetIsStillTheManager() throws Exception {
    // Max enrolls a second identity with a secret he made, and has it ask for an approval template
    Party puppet = Actors.enroll(ca, Actors.secret(ca, max, "User", "CN=Maxi Puppet"), "CN=Maxi Puppet");
    // a template that does not let User holders enroll refuses the puppet outright, nothing queued
    long[] refusedBefore = Actors.state(ca);
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.certRequest(puppet.sig(), PKIBody.TYPE_CERT_REQ, Wire.nonce(), new X500Name("CN=Maxi Puppet"),
          TestCa.rsaKey(2048), "KeyRecoveryAgent", false);
      assertEquals(ErrorCode.NOT_AUTHORIZED.number(), Wire.code(a), Wire.text(a));
    }
    Actors.assertNothingStored(refusedBefore, ca);
    // "Reviewed" lets holders of User certificates ask: the puppet's request waits for a manager
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.certRequest(puppet.sig(), PKIBody.TYPE_CERT_REQ, Wire.nonce(), new X500Name("CN=Maxi Puppet"),
          TestCa.ecKey(), "Reviewed", false);
      assertEquals(3, Wire.status(a), Wire.text(a));
    }
    long id = pendingId(max, "CN=Maxi Puppet");
    long[] before = Actors.state(ca);
    PKIMessage own = approve(max, id);
    assertEquals(ErrorCode.FOUR_EYES.number(), Wire.code(own), Wire.text(own));
    Actors.assertNothingStored(before, ca);
    assertNotNull(Actors.JSON.readTree(Wire.adminAnswer(approve(mia, id))).path("serial").asText(null));
  }

  @Test
  void oneCardWithTwoCertificatesIsOneAgent() throws Exception {
    // Mia makes two agent secrets; both requests carry the same card key; Max approves both (four eyes hold)
    KeyPair card = TestCa.rsaKey(2048);
    String[] serials = new String[2];
    for (int i = 0; i < 2; i++) {
      String dn = "CN=Twin Agent " + i;
      agentRequest(Actors.secret(ca, mia, "KeyRecoveryAgent", dn), dn, card, evidence(true, false, true, true));
      PKIMessage ok = approve(max, pendingId(max, dn));
      serials[i] = Actors.JSON.readTree(Wire.adminAnswer(ok)).path("serial").asText();
    }
    JsonNode first = Actors.JSON.readTree(Wire.adminAnswer(kraAdd(serials[0], false)));
    assertEquals(serials[0], first.path("added").asText(), first.toString());
    long agentsBefore = Actors.rows(ca, "recovery_agent");
    // the second certificate of the same key would let one card count twice toward the threshold
    for (boolean without : new boolean[] {false, true}) {
      PKIMessage twin = kraAdd(serials[1], without);
      assertEquals(ErrorCode.BAD_REQUEST.number(), Wire.code(twin), Wire.text(twin));
      assertTrue(Wire.message(twin).contains("certifies the key of recovery agent CN=Twin Agent 0 (serial "
          + serials[0] + "): one card counts as one agent"), Wire.message(twin));
    }
    assertEquals(agentsBefore, Actors.rows(ca, "recovery_agent"));
    Actors.ok(ca, ada, "{\"op\":\"kra.remove\",\"serial\":\"" + serials[0] + "\"}");
  }

  @Test
  void kraAddRefusesAnAgentCertificateIssuedWithoutApproval() throws Exception {
    Secret s = Actors.secret(ca, ada, "QuickAgent", "CN=Quick Agent");
    KeyPair kp = TestCa.rsaKey(2048);
    String serial;
    try (Wire w = Actors.wire(ca)) {
      // a forged card evidence attribute does not help
      PKIMessage a = w.p10cr(s.mac(), Wire.nonce(), Wire.csr(new X500Name("CN=Quick Agent"), kp,
          evidence(true, false, true, true)));
      assertNotNull(Wire.granted(a), "QuickAgent issues at once: " + Wire.text(a));
      serial = Wire.granted(a).getSerialNumber().toString(16);
      w.certConf(s.mac(), a.getHeader().getTransactionID().getOctets(), Wire.senderNonce(a), Wire.granted(a), true);
    }
    long[] before = Actors.state(ca);
    for (boolean without : new boolean[] {false, true}) {
      PKIMessage add = kraAdd(serial, without);
      assertEquals(ErrorCode.BAD_REQUEST.number(), Wire.code(add), Wire.text(add));
      assertTrue(Wire.message(add).contains("was issued from template QuickAgent, not KeyRecoveryAgent"),
          Wire.message(add));
    }
    Actors.assertNothingStored(before, ca);
  }

  @Test
  void kraAddRefusesEvidenceOfAKeyThatIsNotACardKey() throws Exception {
    Secret s = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Soft Agent");
    agentRequest(s, "CN=Soft Agent", evidence(true, true, false, false));
    long id = pendingId(mia, "CN=Soft Agent");
    JsonNode shown = Actors.ok(ca, mia, "{\"op\":\"request.show\",\"id\":" + id + "}").path("request")
        .path("cardEvidence");
    assertEquals("soft-card", shown.path("tokenLabel").asText(), shown.toString());
    assertFalse(shown.path("showsCardKey").asBoolean(), shown.toString());
    String serial = Actors.JSON.readTree(Wire.adminAnswer(approve(mia, id))).path("serial").asText();
    long[] before = Actors.state(ca);
    // an agent certificate is no identity: no role for it
    PKIMessage role = Actors.admin(ca, ada, "{\"op\":\"role.grant\",\"role\":\"auditor\",\"serial\":\"" + serial
        + "\"}");
    assertEquals(ErrorCode.BAD_REQUEST.number(), Wire.code(role), Wire.text(role));
    PKIMessage add = kraAdd(serial, false);
    assertEquals(ErrorCode.BAD_REQUEST.number(), Wire.code(add), Wire.text(add));
    assertTrue(Wire.message(add).contains("does not show a key made on a card: CKA_EXTRACTABLE=true, "
        + "CKA_NEVER_EXTRACTABLE=false, CKA_LOCAL=false"), Wire.message(add));
    Actors.assertNothingStored(before, ca);
  }

  @Test
  void malformedCardEvidenceIsRefusedAtTheRequest() throws Exception {
    Secret s = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Garbled Agent");
    long[] before = Actors.state(ca);
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.p10cr(s.mac(), Wire.nonce(), Wire.csr(new X500Name("CN=Garbled Agent"), TestCa.rsaKey(2048),
          new Attribute(Wire.KEYARC_CARD_EVIDENCE, new DERSet(new DERUTF8String("trust me")))));
      assertEquals(ErrorCode.BAD_MESSAGE.number(), Wire.code(a), Wire.text(a));
    }
    Actors.assertNothingStored(before, ca);
  }
}
