package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.KeyPair;
import java.sql.PreparedStatement;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.crmf.AttributeTypeAndValue;
import org.bouncycastle.asn1.crmf.SubsequentMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.attack.Actors.Party;
import org.keyarc.ca.attack.Actors.Secret;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.store.DirectSql;

/**
 * Indirect proof of possession (RFC 4210 encrCert, issue 15), tried from outside with plain Bouncy Castle: a
 * request for a key its sender does not hold. The certificate goes back only as CMS EnvelopedData to the requested
 * key, so the sender cannot name its hash in certConf; until certConf does, the certificate is UNCONFIRMED, no
 * administrator can make it a recovery agent, and the node revokes it when the deadline passes. An honest client
 * opens the envelope with its private key (standard CMS, nothing of keyarc's) and confirms. Keys that sign, EC keys,
 * kur and the other indirect forms are refused with badPOP.
 */
class IndirectPopAttackE2eTest {
  static TestCa ca;
  static Party ada;
  static Party max;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> {
      org.keyarc.ca.config.NodeConfig.TemplateCfg sign = new org.keyarc.ca.config.NodeConfig.TemplateCfg();
      sign.name = "SignOnly"; // keys that sign and never decrypt
      sign.keyUsage = java.util.List.of("digitalSignature");
      cfg.templates.add(sign);
    });
    ada = Actors.administrator(ca, "CN=Ada Admin");
    max = Actors.member(ca, ada, "CN=Max Manager", "manager");
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** Card evidence as kra init-card sends it in regInfo, written from docs/recovery.md: a key made on a card. */
  private static AttributeTypeAndValue cardEvidence() {
    ASN1Encodable[] attrs = {new DERTaggedObject(false, 0, ASN1Boolean.TRUE),
        new DERTaggedObject(false, 1, ASN1Boolean.FALSE), new DERTaggedObject(false, 2, ASN1Boolean.TRUE),
        new DERTaggedObject(false, 3, ASN1Boolean.TRUE), new DERTaggedObject(false, 4, ASN1Boolean.TRUE)};
    return new AttributeTypeAndValue(Wire.KEYARC_CARD_EVIDENCE, new DERSequence(new ASN1Encodable[] {
        new ASN1Integer(1), new DERUTF8String("eve-card"), new DERUTF8String("0001"), new DERUTF8String("Eve"),
        new DERUTF8String("Card"), new DERUTF8String("kra-key"), new DERSequence(attrs)}));
  }

  private static long pendingId(String subject) throws Exception {
    for (JsonNode r : Actors.ok(ca, max, "{\"op\":\"request.list\",\"status\":\"pending\"}").path("requests")) {
      if (r.path("subject").asText().equals(subject)) {
        return r.path("id").asLong();
      }
    }
    throw new AssertionError("no pending request for " + subject);
  }

  private static String status(String serialHex) {
    return DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT status FROM certificate WHERE serial = ?")) {
        ps.setString(1, serialHex);
        try (var rs = ps.executeQuery()) {
          return rs.next() ? rs.getString(1) : null;
        }
      }
    });
  }

  private static Long deadline(String serialHex) {
    return DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT confirm_deadline FROM certificate WHERE serial = ?")) {
        ps.setString(1, serialHex);
        try (var rs = ps.executeQuery()) {
          rs.next();
          long v = rs.getLong(1);
          return rs.wasNull() ? null : v;
        }
      }
    });
  }

  /** The OCSP status a relying party gets for {@code serialHex}, over HTTP with plain Bouncy Castle. */
  private static String ocsp(String serialHex) throws Exception {
    org.bouncycastle.cert.ocsp.CertificateID id = new org.bouncycastle.cert.ocsp.CertificateID(
        new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build()
            .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1), ca.caCert(),
        new java.math.BigInteger(serialHex, 16));
    byte[] req = new org.bouncycastle.cert.ocsp.OCSPReqBuilder().addRequest(id).build().getEncoded();
    java.net.http.HttpResponse<byte[]> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + ca.node.httpPort() + "/ocsp"))
            .header("Content-Type", "application/ocsp-request")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(req)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    Object st = ((org.bouncycastle.cert.ocsp.BasicOCSPResp) new org.bouncycastle.cert.ocsp.OCSPResp(r.body())
        .getResponseObject()).getResponses()[0].getCertStatus();
    return st == null ? "good" : st instanceof org.bouncycastle.cert.ocsp.RevokedStatus ? "revoked" : "unknown";
  }

  private static X509CertificateHolder open(CMSEnvelopedData env, KeyPair key) throws Exception {
    RecipientInformation ri = env.getRecipientInfos().getRecipients().iterator().next();
    return new X509CertificateHolder(ri.getContent(new JceKeyTransEnvelopedRecipient(key.getPrivate())
        .setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())));
  }

  @Test
  void aKeyTheSenderDoesNotHoldNeverBecomesARecoveryAgent() throws Exception {
    // someone else's public key (the victim's card, say): Eve has the secret, not the private key
    KeyPair victim = TestCa.rsaKey(2048);
    Secret s = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Eve Agent");
    byte[] tx = Wire.nonce();
    try (Wire w = Actors.wire(ca)) {
      PKIMessage held = w.indirectRequest(s.mac(), PKIBody.TYPE_CERT_REQ, tx, new X500Name("CN=Eve Agent"),
          TestCa.spki(victim), "KeyRecoveryAgent", true, SubsequentMessage.encrCert, cardEvidence());
      assertEquals(3, Wire.status(held), Wire.text(held)); // waiting for a manager
    }
    long id = pendingId("CN=Eve Agent");
    JsonNode shown = Actors.ok(ca, max, "{\"op\":\"request.show\",\"id\":" + id + "}");
    assertTrue(shown.toString().contains("decryption: the certificate went back encrypted to the key"),
        shown.toString());
    String serial = Actors.ok(ca, max, "{\"op\":\"request.approve\",\"id\":" + id + "}").path("serial").asText();
    assertEquals("UNCONFIRMED", status(serial));
    // no relying party is told it is good
    assertEquals("unknown", ocsp(serial));
    // Eve may also hold a role: no administrative read gives the certificate or its hash before certConf
    for (Party reader : new Party[] {max, ada}) {
      JsonNode shown1 = Actors.ok(ca, reader, "{\"op\":\"cert.show\",\"serial\":\"" + serial + "\"}")
          .path("certificate");
      assertEquals("UNCONFIRMED", shown1.path("status").asText(), shown1.toString());
      assertFalse(shown1.has("der") || shown1.has("sha256"), shown1.toString());
      assertTrue(shown1.path("withheld").asText().contains("certConf"), shown1.toString());
      for (JsonNode c : Actors.ok(ca, reader, "{\"op\":\"cert.list\"}").path("certificates")) {
        if (c.path("serial").asText().equals(serial)) {
          assertFalse(c.has("der") || c.has("sha256"), c.toString());
        }
      }
    }

    // approved, but possession is unproven: no agent
    PKIMessage early = Actors.admin(ca, ada, Actors.JSON.createObjectNode().put("op", "kra.add")
        .put("serial", serial).toString());
    assertEquals(30, Wire.code(early), Wire.text(early));
    assertTrue(Wire.message(early).contains("possession of the key is not proven yet"), Wire.text(early));

    try (Wire w = Actors.wire(ca)) {
      PKIMessage got = w.pollReq(s.mac(), tx);
      assertEquals(PKIBody.TYPE_CERT_REP, got.getBody().getType(), Wire.text(got));
      assertNull(Wire.granted(got), "the certificate is never sent in the clear");
      assertFalse(Wire.grantsImplicitConfirm(got), "never implicitly confirmed");
      CMSEnvelopedData env = Wire.encryptedCert(got);
      assertNotNull(env);
      // only the requested key opens it: the envelope really is to the victim's key
      X509CertificateHolder inside = open(env, victim);
      assertEquals(serial, inside.getSerialNumber().toString(16));

      // Eve cannot name the hash: any other certificate's is refused, and the certificate stays unconfirmed
      X509CertificateHolder guess = ca.caCert();
      PKIMessage conf = w.certConf(s.mac(), tx, Wire.senderNonce(got), guess, true);
      assertEquals(30, Wire.code(conf), Wire.text(conf));
      assertTrue(Wire.message(conf).contains("did not issue"), Wire.text(conf));
      assertEquals("UNCONFIRMED", status(serial));
    }

    // the deadline started with the delivery: once it has passed, the node revokes the certificate
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET confirm_deadline = 1 WHERE serial = ? "
          + "AND confirm_deadline IS NOT NULL")) {
        ps.setString(1, serial);
        assertEquals(1, ps.executeUpdate(), "the certConf clock started at the first delivery");
      }
      return null;
    });
    assertEquals(1, ca.services().enrollment().reapUnconfirmed());
    assertEquals("REVOKED", status(serial));
    assertEquals("revoked", ocsp(serial));
    PKIMessage late = Actors.admin(ca, ada, Actors.JSON.createObjectNode().put("op", "kra.add")
        .put("serial", serial).toString());
    assertEquals(30, Wire.code(late), Wire.text(late));
    assertTrue(Wire.message(late).contains("revoked"), Wire.text(late));
  }

  @Test
  void anApprovedCertificateNobodyCollectsIsRevokedAfterTheCollectionDeadline() throws Exception {
    KeyPair someone = TestCa.rsaKey(2048);
    Secret s = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Nobody Collects");
    byte[] tx = Wire.nonce();
    try (Wire w = Actors.wire(ca)) {
      PKIMessage held = w.indirectRequest(s.mac(), PKIBody.TYPE_CERT_REQ, tx, new X500Name("CN=Nobody Collects"),
          TestCa.spki(someone), "KeyRecoveryAgent", true, SubsequentMessage.encrCert, cardEvidence());
      assertEquals(3, Wire.status(held), Wire.text(held));
    }
    long before = System.currentTimeMillis();
    String serial = Actors.ok(ca, max, "{\"op\":\"request.approve\",\"id\":" + pendingId("CN=Nobody Collects")
        + "}").path("serial").asText();
    // the collection deadline: timers.secretValidityDays (14 days) from the approval, not "never"
    long collect = deadline(serial);
    long days14 = java.time.Duration.ofDays(14).toMillis();
    assertTrue(collect >= before + days14 && collect <= System.currentTimeMillis() + days14, collect + "");
    // the first delivery brings it to the certConf clock; a later one does not move it back
    try (Wire w = Actors.wire(ca)) {
      assertNotNull(Wire.encryptedCert(w.pollReq(s.mac(), tx)));
    }
    long confirmBy = deadline(serial);
    assertTrue(confirmBy < before + java.time.Duration.ofHours(1).toMillis(), "certConf clock started: " + confirmBy);
    try (Wire w = Actors.wire(ca)) {
      assertNotNull(Wire.encryptedCert(w.pollReq(s.mac(), tx)));
    }
    assertEquals(confirmBy, deadline(serial));
    // a second one, approved and never collected: once its deadline has passed, the node revokes it
    Secret s2 = Actors.secret(ca, ada, "KeyRecoveryAgent", "CN=Nobody Collects Two");
    try (Wire w = Actors.wire(ca)) {
      assertEquals(3, Wire.status(w.indirectRequest(s2.mac(), PKIBody.TYPE_CERT_REQ, Wire.nonce(),
          new X500Name("CN=Nobody Collects Two"), TestCa.spki(TestCa.rsaKey(2048)), "KeyRecoveryAgent", true,
          SubsequentMessage.encrCert, cardEvidence())));
    }
    String serial2 = Actors.ok(ca, max, "{\"op\":\"request.approve\",\"id\":"
        + pendingId("CN=Nobody Collects Two") + "}").path("serial").asText();
    DirectSql.run(ca.services().store(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE certificate SET confirm_deadline = 1 WHERE serial = ?")) {
        ps.setString(1, serial2);
        assertEquals(1, ps.executeUpdate());
      }
      return null;
    });
    assertTrue(ca.services().enrollment().reapUnconfirmed() >= 1);
    assertEquals("REVOKED", status(serial2));
    assertEquals("UNCONFIRMED", status(serial), "the delivered one still has its certConf time");
  }

  @Test
  void theCasOwnExchangeKeyIsNeverCertifiedForAnEnrollee() throws Exception {
    // the exchange certificate every client gets (genm): an RSA key the CA decrypts with, not the sender
    org.bouncycastle.asn1.x509.SubjectPublicKeyInfo exchange = ca.services().keys()
        .currentExchange(java.time.Instant.now()).orElseThrow().cert().getSubjectPublicKeyInfo();
    Secret s = Actors.secret(ca, max, "User", "CN=Xena Exchange");
    long[] before = Actors.state(ca);
    try (Wire w = Actors.wire(ca)) {
      PKIMessage a = w.indirectRequest(s.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name("CN=Xena Exchange"),
          exchange, "User", false, SubsequentMessage.encrCert);
      assertEquals(38, Wire.code(a), Wire.text(a));
      assertTrue(Wire.message(a).contains("the public key is this CA's exchange (archival) key"), Wire.text(a));
    }
    Actors.assertNothingStored(before, ca);
  }

  @Test
  void aKeyNothingCanBeEncryptedToIsRefusedBeforeAnythingIsSigned() throws Exception {
    java.security.interfaces.RSAPublicKey real = (java.security.interfaces.RSAPublicKey) TestCa.rsaKey(2048)
        .getPublic();
    Secret s = Actors.secret(ca, max, "User", "CN=Odd Exponent");
    long[] before = Actors.state(ca);
    for (java.math.BigInteger e : new java.math.BigInteger[] {java.math.BigInteger.ONE,
        java.math.BigInteger.valueOf(65536)}) {
      org.bouncycastle.asn1.x509.SubjectPublicKeyInfo bad = new org.bouncycastle.asn1.x509.SubjectPublicKeyInfo(
          new org.bouncycastle.asn1.x509.AlgorithmIdentifier(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers
              .rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE),
          new org.bouncycastle.asn1.pkcs.RSAPublicKey(real.getModulus(), e));
      try (Wire w = Actors.wire(ca)) {
        PKIMessage a = w.indirectRequest(s.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name("CN=Odd Exponent"),
            bad, "User", false, SubsequentMessage.encrCert);
        // the key rules refuse it before anything is signed: no certificate is stored that could not be delivered
        assertEquals(38, Wire.code(a), Wire.text(a));
        assertTrue(Wire.message(a).contains("is not accepted (an odd exponent"), Wire.text(a));
      }
    }
    Actors.assertNothingStored(before, ca);
  }

  @Test
  void anHonestClientOpensItsCertificateWithPlainCmsAndConfirmsIt() throws Exception {
    KeyPair mine = TestCa.rsaKey(2048);
    Secret s = Actors.secret(ca, max, "User", "CN=Hana Honest");
    byte[] tx = Wire.nonce();
    try (Wire w = Actors.wire(ca)) {
      // implicitConfirm asked for, and not granted: the certConf is the proof
      PKIMessage a = w.indirectRequest(s.mac(), PKIBody.TYPE_INIT_REQ, tx, new X500Name("CN=Hana Honest"),
          TestCa.spki(mine), "User", true, SubsequentMessage.encrCert);
      assertEquals(0, Wire.status(a), Wire.text(a));
      assertFalse(Wire.grantsImplicitConfirm(a));
      assertNull(Wire.granted(a));
      X509CertificateHolder cert = open(Wire.encryptedCert(a), mine);
      String serial = cert.getSerialNumber().toString(16);
      assertEquals("UNCONFIRMED", status(serial));
      // a key that was never shown to sign gets no signing key usage
      KeyUsage ku = KeyUsage.fromExtensions(cert.getExtensions());
      assertTrue(ku.hasUsages(KeyUsage.keyEncipherment) && !ku.hasUsages(KeyUsage.digitalSignature), ku.toString());
      PKIMessage conf = w.certConf(s.mac(), tx, Wire.senderNonce(a), cert, true);
      assertEquals(PKIBody.TYPE_CONFIRM, conf.getBody().getType(), Wire.text(conf));
      assertEquals("ISSUED", status(serial));
      // confirmed, it is shown as any other certificate
      JsonNode shown = Actors.ok(ca, max, "{\"op\":\"cert.show\",\"serial\":\"" + serial + "\"}")
          .path("certificate");
      assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(cert.getEncoded())), shown.path("sha256").asText(), shown.toString());
      assertEquals(java.util.Base64.getEncoder().encodeToString(cert.getEncoded()), shown.path("der").asText());
    }
  }

  @Test
  void signingKeysEcKeysKurAndTheOtherIndirectFormsAreRefused() throws Exception {
    Party user = Actors.enroll(ca, Actors.secret(ca, max, "User", "CN=Kurt Kur"), "CN=Kurt Kur");
    long[] before = Actors.state(ca);
    try (Wire w = Actors.wire(ca)) {
      // a template whose keys sign
      Secret sig = Actors.secret(ca, max, "SignOnly", "CN=Sig Signer");
      PKIMessage a = w.indirectRequest(sig.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name("CN=Sig Signer"),
          TestCa.spki(TestCa.rsaKey(2048)), "SignOnly", false, SubsequentMessage.encrCert);
      assertEquals(32, Wire.code(a), Wire.text(a));
      assertTrue(Wire.message(a).contains("prove possession with a signature"), Wire.text(a));
      // an EC key (the certificate would need key agreement to come back)
      Secret ec = Actors.secret(ca, max, "User", "CN=Ed Curve");
      PKIMessage b = w.indirectRequest(ec.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(), new X500Name("CN=Ed Curve"),
          TestCa.spki(TestCa.ecKey()), "User", false, SubsequentMessage.encrCert);
      assertEquals(32, Wire.code(b), Wire.text(b));
      assertTrue(Wire.message(b).contains("is for RSA keys"), Wire.text(b));
      // challengeResp, the other subsequent message
      Secret ch = Actors.secret(ca, max, "User", "CN=Chad Challenge");
      PKIMessage c = w.indirectRequest(ch.mac(), PKIBody.TYPE_INIT_REQ, Wire.nonce(),
          new X500Name("CN=Chad Challenge"), TestCa.spki(TestCa.rsaKey(2048)), "User", false,
          SubsequentMessage.challengeResp);
      assertEquals(32, Wire.code(c), Wire.text(c));
      assertTrue(Wire.message(c).contains("only subsequentMessage encrCert is accepted"), Wire.text(c));
      // kur: the new key proves itself with a signature
      PKIMessage d = w.indirectRequest(user.sig(), PKIBody.TYPE_KEY_UPDATE_REQ, Wire.nonce(),
          new X500Name("CN=Kurt Kur"), TestCa.spki(TestCa.rsaKey(2048)), null, false, SubsequentMessage.encrCert);
      assertEquals(32, Wire.code(d), Wire.text(d));
      assertTrue(Wire.message(d).contains("kur proves possession of the new key with a signature"), Wire.text(d));
    }
    long[] after = Actors.state(ca);
    assertEquals(before[0], after[0], "no certificate issued");
    assertEquals(before[1], after[1], "no request held");
  }
}
