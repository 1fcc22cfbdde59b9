package org.keyarc.ca.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.GenMsgContent;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIHeader;
import org.bouncycastle.asn1.cmp.PKIHeaderBuilder;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.e2e.TestCa;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.jdbc.JdbcStore;

/**
 * Who signs the node's CMP answers, checked from outside with plain Bouncy Castle: a CMP responder certificate
 * the CA issued (id-kp-cmcCA, short-lived), carried with the CA certificate in extraCerts; never the CA key,
 * which the old node used for every answer, errors to anonymous senders included (one root signature per garbage
 * request, over attacker-shaped data). Errors to senders that did not authenticate are unprotected.
 */
class ResponderKeyE2eTest {
  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> cfg.limits.failuresPerPeerPerMinute = 10_000);
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  /** A cr signed by {@code e}'s key (the holder of a certificate of this CA) for a new key. */
  private static byte[] signedCr(TestCa.Enrollee e, String template) throws Exception {
    var b = Attacker.header(e.cert().getSubject(), ca.caCert().getSubject())
        .setBody(crBody(e.cert().getSubject().toString()));
    if (template != null) {
      b.addGeneralInfo(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_certProfile,
          new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.DERUTF8String(template))));
    }
    return b.addCMPCertificate(e.cert())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(e.keys().getPrivate())).toASN1Structure()
        .getEncoded();
  }

  private static PKIBody crBody(String subject) throws Exception {
    PKIBody ir = Attacker.ir(subject);
    return new PKIBody(PKIBody.TYPE_CERT_REQ, ir.getContent());
  }

  /** Checks that {@code answer} is signed by a responder certificate of this CA, not by the CA key. */
  private static X509CertificateHolder assertSignedByResponder(PKIMessage answer) throws Exception {
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(answer));
    assertFalse(p.hasPasswordBasedMacProtection(), "signed, not MAC-protected");
    X509CertificateHolder[] extra = p.getCertificates();
    assertEquals(2, extra.length, "the responder certificate and the CA certificate");
    X509CertificateHolder responder = extra[0];
    X509CertificateHolder caCert = ca.caCert();
    assertEquals(caCert, extra[1]);
    assertNotEquals(caCert, responder);
    assertNotEquals(caCert.getSubjectPublicKeyInfo(), responder.getSubjectPublicKeyInfo(), "another key");
    // the CA issued it, for CMP protection only, for a short time
    assertEquals(caCert.getSubject(), responder.getIssuer());
    assertTrue(responder.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(caCert)));
    assertTrue(ExtendedKeyUsage.fromExtensions(responder.getExtensions()).hasKeyPurposeId(KeyPurposeId.id_kp_cmcCA));
    assertTrue(KeyUsage.fromExtensions(responder.getExtensions()).hasUsages(KeyUsage.digitalSignature));
    assertFalse(KeyUsage.fromExtensions(responder.getExtensions()).hasUsages(KeyUsage.keyCertSign));
    assertTrue(responder.getNotAfter().toInstant().isBefore(Instant.now().plus(Duration.ofDays(31))));
    assertTrue(responder.isValidOn(new Date()));
    // the sender field names it, the signature verifies with it and not with the CA key
    assertEquals(responder.getSubject(), X500Name.getInstance(answer.getHeader().getSender().getName()));
    assertTrue(p.verify(new JcaContentVerifierProviderBuilder().setProvider(BC).build(responder)));
    assertFalse(p.verify(new JcaContentVerifierProviderBuilder().setProvider(BC).build(caCert)),
        "the CA key did not sign the answer");
    return responder;
  }

  @Test
  void answersToAuthenticatedSendersAreSignedByTheResponderCertificate() throws Exception {
    TestCa.Enrollee user = ca.enrollUser("CN=Signed Answers, O=keyarc");
    PKIMessage cp = Attacker.post(ca.httpUrl(), signedCr(user, null));
    assertEquals(PKIBody.TYPE_CERT_REP, cp.getBody().getType(), Attacker.errorText(cp));
    X509CertificateHolder responder = assertSignedByResponder(cp);
    // an error to an authenticated sender is signed the same way
    PKIMessage refused = Attacker.post(ca.httpUrl(), signedCr(user, "NoSuchTemplate"));
    assertEquals(33, Attacker.keyarcCode(refused), Attacker.errorText(refused));
    assertEquals(responder, assertSignedByResponder(refused));
    // the public genm too (over the binary transport, TLS by default)
    PKIMessage genm = new PKIMessage(new PKIHeaderBuilder(PKIHeader.CMP_2000, new GeneralName(new X500Name("")),
        new GeneralName(ca.caCert().getSubject())).setTransactionID(Attacker.random(16))
        .setSenderNonce(Attacker.random(16)).build(), new PKIBody(PKIBody.TYPE_GEN_MSG, new GenMsgContent(
        new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts))));
    PKIMessage genp = Attacker.frame(ca.node.binaryPort(), genm.getEncoded(), ca.caCert());
    assertEquals(PKIBody.TYPE_GEN_REP, genp.getBody().getType(), Attacker.errorText(genp));
    assertEquals(responder, assertSignedByResponder(genp));
  }

  @Test
  void errorsToUnauthenticatedSendersAreUnprotected() throws Exception {
    // garbage
    PKIMessage garbage = Attacker.post(ca.httpUrl(), new byte[] {0x30, 0x03, 0x02, 0x01, 0x05});
    assertEquals(31, Attacker.keyarcCode(garbage), Attacker.errorText(garbage));
    assertTrue(Attacker.unprotected(garbage));
    // an unprotected ir
    PKIMessage ir = new PKIMessage(new PKIHeaderBuilder(PKIHeader.CMP_2000, new GeneralName(new X500Name("")),
        new GeneralName(ca.caCert().getSubject())).setTransactionID(Attacker.random(16))
        .setSenderNonce(Attacker.random(16)).build(), Attacker.ir("CN=Anonymous"));
    PKIMessage anonymous = Attacker.post(ca.httpUrl(), ir.getEncoded());
    assertEquals(34, Attacker.keyarcCode(anonymous), Attacker.errorText(anonymous));
    assertTrue(Attacker.unprotected(anonymous));
    // a signature with a certificate this CA never issued (self-made, naming the CA as issuer)
    KeyPair kp = Attacker.ecKey();
    X509CertificateHolder forged = new X509CertificateHolder(new JcaX509v3CertificateBuilder(ca.caCert().getSubject(),
        BigInteger.TEN, new Date(), Date.from(Instant.now().plusSeconds(3600)), new X500Name("CN=Forger"),
        kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded());
    byte[] cr = Attacker.header(new X500Name("CN=Forger"), ca.caCert().getSubject()).setBody(crBody("CN=Forger"))
        .addCMPCertificate(forged).build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
        .toASN1Structure().getEncoded();
    PKIMessage unknown = Attacker.post(ca.httpUrl(), cr);
    assertEquals(40, Attacker.keyarcCode(unknown), Attacker.errorText(unknown));
    assertTrue(Attacker.unprotected(unknown));
    // a MAC with a reference that does not exist
    PKIMessage noSecret = Attacker.post(ca.httpUrl(), Attacker.header(new X500Name(""), ca.caCert().getSubject())
        .setSenderKID("0123456789abcdef".getBytes(StandardCharsets.UTF_8)).setBody(Attacker.ir("CN=x"))
        .build(new org.bouncycastle.cert.crmf.PKMACBuilder(new org.bouncycastle.cert.crmf.jcajce
            .JcePKMACValuesCalculator().setProvider(BC)).setParameters(new org.bouncycastle.asn1.cmp.PBMParameter(
            Attacker.random(16), new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256), 500,
            new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                org.bouncycastle.asn1.iana.IANAObjectIdentifiers.hmacSHA1))).build("guess".toCharArray()))
        .toASN1Structure().getEncoded());
    assertEquals(39, Attacker.keyarcCode(noSecret), Attacker.errorText(noSecret));
    assertTrue(Attacker.unprotected(noSecret));
  }

  @Test
  void aStoreWithoutResponderKeyGetsOneAtNodeStart() throws Exception {
    // a store initialised before responder keys existed: no RESPONDER row
    ca.node.close();
    try (CaNode.Resources r = CaNode.open(ca.cfg);
        Connection c = ((JdbcStore) r.store()).dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("DELETE FROM ca_key WHERE kind = 'RESPONDER'")) {
      assertTrue(ps.executeUpdate() >= 1);
      if (!c.getAutoCommit()) {
        c.commit();
      }
    }
    ca.node = CaNode.start(ca.cfg);
    TestCa.Enrollee user = ca.enrollUser("CN=After Upgrade, O=keyarc");
    PKIMessage cp = Attacker.post(ca.httpUrl(), signedCr(user, null));
    assertEquals(PKIBody.TYPE_CERT_REP, cp.getBody().getType(), Attacker.errorText(cp));
    assertSignedByResponder(cp);
    assertTrue(ca.services().store().inTransaction(tx -> tx.audit().lastDetail("ca.responder")).isPresent());
  }
}
