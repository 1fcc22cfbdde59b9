package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.InfoTypeAndValue;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.CertificateList;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The enrollment story end to end, over real loopback sockets, on both transports. */
class EnrollmentE2eTest {
  static TestCa ca;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start();
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static void assertIssuedByCa(X509CertificateHolder cert) throws Exception {
    assertTrue(cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new BouncyCastleProvider())
        .build(ca.caCert())), "signed by the CA");
    assertEquals(ca.caCert().getSubject(), cert.getIssuer());
  }

  @Test
  void irWithMacOnBothTransports() throws Exception {
    for (String url : List.of(ca.binaryUrl(), ca.httpUrl())) {
      String subject = "CN=Alice " + url.substring(0, 4) + ", O=keyarc";
      KeyPair kp = TestCa.ecKey();
      try (CmpClient c = ca.macClient(url, ca.secret("User", subject))) {
        CmpClient.Result r = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name(subject), TestCa.spki(kp), TestCa.pop(kp),
            null, false, null);
        X509CertificateHolder cert = r.enrolled().cert();
        assertIssuedByCa(cert);
        assertEquals(new X500Name(subject), cert.getSubject());
        CertRecord rec = ca.services().certificates().show(org.keyarc.ca.auth.Identity.localOperator(), cert.getSerialNumber());
        assertEquals(CertRecord.Status.ISSUED, rec.status(), "certConf confirmed it");
      }
    }
  }

  @Test
  void pbmac1AndImplicitConfirm() throws Exception {
    KeyPair kp = TestCa.ecKey();
    SecretService.NewSecret s = ca.secret("User", "CN=Pat");
    try (CmpClient c = new CmpClient(ca.transport(ca.binaryUrl()),
        new org.keyarc.protocol.client.Protection.Mac(s.reference(), s.secret(), true), ca.caCert())) {
      CmpClient.Result r = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name("CN=Pat"), TestCa.spki(kp), TestCa.pop(kp),
          null, true, null);
      assertEquals(CertRecord.Status.ISSUED, ca.services().certificates().show(org.keyarc.ca.auth.Identity.localOperator(),
          r.enrolled().cert().getSerialNumber()).status());
    }
  }

  @Test
  void crWithSignatureAndP10cr() throws Exception {
    TestCa.Enrollee bob = ca.enrollUser("CN=Bob");
    KeyPair second = TestCa.rsaKey(2048);
    try (CmpClient c = ca.signedClient(ca.httpUrl(), bob)) {
      X509CertificateHolder cert = c.enroll(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Bob"), TestCa.spki(second),
          TestCa.pop(second), "User", false, null).enrolled().cert();
      assertIssuedByCa(cert);
    }
    KeyPair third = TestCa.ecKey();
    PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=Carol"),
        third.getPublic()).build(TestCa.pop(third));
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("User", "CN=Carol"))) {
      assertIssuedByCa(c.p10cr(csr, null, false).enrolled().cert());
    }
  }

  @Test
  void revocationShowsInTheCrl() throws Exception {
    TestCa.Enrollee dave = ca.enrollUser("CN=Dave");
    try (CmpClient c = ca.signedClient(ca.binaryUrl(), dave)) {
      c.revoke(ca.caCert().getSubject(), dave.serial(), CRLReason.keyCompromise);
    }
    try (CmpClient c = new CmpClient(ca.transport(ca.httpUrl()),
        new org.keyarc.protocol.client.Protection.None(), ca.caCert())) {
      List<InfoTypeAndValue> rep = c.genm(new InfoTypeAndValue(CMPObjectIdentifiers.it_currentCRL));
      X509CRLHolder crl = new X509CRLHolder(CertificateList.getInstance(rep.get(0).getInfoValue()));
      assertNotNull(crl.getRevokedCertificate(dave.serial()), "the CRL lists the revoked certificate");
      assertTrue(crl.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new BouncyCastleProvider())
          .build(ca.caCert())));
      // the revoked certificate can no longer sign requests
      TestCa.Enrollee revoked = dave;
      try (CmpClient d = ca.signedClient(ca.binaryUrl(), revoked)) {
        CmpClientException e = assertThrows(CmpClientException.class,
            () -> d.revoke(ca.caCert().getSubject(), revoked.serial(), 0));
        assertEquals(ErrorCode.UNKNOWN_SIGNER, e.code(), e.getMessage());
      }
    }
  }

  @Test
  void genmGivesCaCertsAndExchangeCertificate() throws Exception {
    try (CmpClient c = new CmpClient(ca.transport(ca.binaryUrl()),
        new org.keyarc.protocol.client.Protection.None(), ca.caCert())) {
      List<InfoTypeAndValue> rep = c.genm(new InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts),
          new InfoTypeAndValue(CMPObjectIdentifiers.it_caProtEncCert));
      assertEquals(2, rep.size());
      X509CertificateHolder xchg = new X509CertificateHolder(org.bouncycastle.asn1.cmp.CMPCertificate.getInstance(
          rep.get(1).getInfoValue()).getX509v3PKCert());
      assertIssuedByCa(xchg);
      assertTrue(xchg.getNotAfter().getTime() - System.currentTimeMillis() < Duration.ofDays(8).toMillis());
    }
  }

  @Test
  void pendingApprovedThenPolled() throws Exception {
    // a KeyRecoveryAgent request takes a one-time secret made for that template (issue 12): a certificate
    // holder's signed cr for it is refused (attack/EnrollmentPolicyE2eTest)
    TestCa.Enrollee manager = ca.withRole("CN=Manager One", Role.MANAGER);
    KeyPair kraKey = TestCa.rsaKey(2048);
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("KeyRecoveryAgent", "CN=Kim Agent"))) {
      CmpClient.Result r = c.enroll(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Kim Agent"), TestCa.spki(kraKey),
          TestCa.pop(kraKey), "KeyRecoveryAgent", false, null);
      assertNull(r.enrolled(), "KeyRecoveryAgent is never issued at once");
      CmpClient.Pending p = r.pending();
      assertNotNull(p);
      assertNotNull(c.poll(p, Duration.ZERO, null).pending(), "still pending before approval");
      long id = ca.services().approvals().list(identity(manager), org.keyarc.ca.store.RequestRecord.Status.PENDING).stream()
          .filter(q -> q.subject().equals("CN=Kim Agent")).findFirst().orElseThrow().id();
      try (CmpClient m = ca.signedClient(ca.httpsUrl(), manager)) {
        String answer = m.admin("{\"op\":\"request.approve\",\"id\":" + id + "}");
        assertTrue(answer.contains("\"serial\""), answer);
      }
      X509CertificateHolder cert = c.poll(p, Duration.ofSeconds(10), null).enrolled().cert();
      assertIssuedByCa(cert);
      assertTrue(cert.getExtension(org.bouncycastle.asn1.x509.Extension.extendedKeyUsage).getParsedValue().toString()
          .contains("1.3.6.1.4.1.311.21.6"), "carries the Key Recovery Agent EKU");
    }
  }

  @Test
  void pendingDeniedThenPolled() throws Exception {
    TestCa.Enrollee manager = ca.withRole("CN=Manager Two", Role.MANAGER);
    KeyPair kraKey = TestCa.rsaKey(2048);
    try (CmpClient c = ca.macClient(ca.binaryUrl(), ca.secret("KeyRecoveryAgent", "CN=Lee Agent"))) {
      CmpClient.Pending p = c.enroll(PKIBody.TYPE_CERT_REQ, new X500Name("CN=Lee Agent"), TestCa.spki(kraKey),
          TestCa.pop(kraKey), "KeyRecoveryAgent", false, null).pending();
      long id = ca.services().approvals().list(identity(manager), org.keyarc.ca.store.RequestRecord.Status.PENDING).stream()
          .filter(q -> q.subject().equals("CN=Lee Agent")).findFirst().orElseThrow().id();
      try (CmpClient m = ca.signedClient(ca.binaryUrl(), manager)) {
        m.admin("{\"op\":\"request.deny\",\"id\":" + id + ",\"reason\":\"not an agent\"}");
      }
      CmpClientException e = assertThrows(CmpClientException.class, () -> c.poll(p, Duration.ofSeconds(5), null));
      assertEquals(ErrorCode.REQUEST_DENIED, e.code());
      assertTrue(e.getMessage().contains("not an agent"), e.getMessage());
    }
  }

  @Test
  void managerOperationFromEnrolleeIsRefused() throws Exception {
    TestCa.Enrollee eve = ca.enrollUser("CN=Eve");
    try (CmpClient c = ca.signedClient(ca.binaryUrl(), eve)) {
      CmpClientException e = assertThrows(CmpClientException.class,
          () -> c.admin("{\"op\":\"request.approve\",\"id\":1}"));
      assertEquals(ErrorCode.NOT_AUTHORIZED, e.code());
      assertEquals("CN=Eve is not a manager on this CA", e.getMessage());
      CmpClientException r = assertThrows(CmpClientException.class,
          () -> c.revoke(ca.caCert().getSubject(), BigInteger.TEN, 0));
      assertEquals(ErrorCode.NOT_AUTHORIZED, r.code());
    }
  }

  static org.keyarc.ca.auth.Identity identity(TestCa.Enrollee e) throws Exception {
    return ca.services().identities().identify(e.cert());
  }
}
