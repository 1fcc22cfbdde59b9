package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.config.NodeConfig;
import org.keyarc.ca.issue.EnrollRequest;
import org.keyarc.ca.issue.Outcome;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.node.CaServices;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.template.Templates;
import org.keyarc.hsm.testing.SoftHsmFixture;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.CmpClient;
import org.keyarc.protocol.client.CmpClientException;
import org.keyarc.protocol.client.CmpTransport;
import org.keyarc.protocol.client.Protection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CA operations over time: external parent, exchange-key renewal, certConf timeout, key update, MAC parameters. */
class CaOperationsE2eTest {

  @Test
  void subordinateCaUnderAnExternalParent() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("sub")) {
      Files.createDirectories(Path.of("target"));
      Path dir = Files.createTempDirectory(Path.of("target"), "sub-");
      NodeConfig cfg = NodeConfig.defaults(dir, SoftHsmFixture.library().toString(), hsm.pinFile("sub").toString());
      cfg.hsm.token = hsm.label("sub");
      cfg.binary.port = 0;
      cfg.http.port = 0;
      cfg.ca.subject = "CN=keyarc Issuing CA, O=keyarc";
      cfg.ca.keyType = "rsa2048";
      PKCS10CertificationRequest csr;
      try (CaNode.Resources r = CaNode.open(cfg)) {
        CaInit.Result res = CaInit.init(r.store(), r.token(), cfg.settings().ca(), true, null);
        csr = res.csr();
        assertNotNull(csr);
        assertTrue(csr.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
            .build(csr.getSubjectPublicKeyInfo())), "the CSR is signed by the CA key in the token");
        CaException notYet = assertThrows(CaException.class, () -> CaKeyring.load(r.store(), r.token()));
        assertEquals(ErrorCode.CA_NOT_INITIALISED, notYet.code());
      }
      // the "parent": a software root that signs the CSR
      KeyPair parentKey = TestCa.ecKey();
      X500Name parentName = new X500Name("CN=External Root");
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(parentName, BigInteger.valueOf(7),
          new Date(System.currentTimeMillis() - 60_000), Date.from(Instant.now().plus(Duration.ofDays(3650))),
          csr.getSubject(), csr.getSubjectPublicKeyInfo());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
          | KeyUsage.digitalSignature));
      X509CertificateHolder issued = b.build(TestCa.pop(parentKey));
      try (CaNode.Resources r = CaNode.open(cfg)) {
        X509CertificateHolder wrongKey = new JcaX509v3CertificateBuilder(parentName, BigInteger.TEN, new Date(),
            Date.from(Instant.now().plusSeconds(99)), csr.getSubject(), parentKey.getPublic()).build(
            TestCa.pop(parentKey));
        CaException e = assertThrows(CaException.class, () -> CaInit.importCertificate(r.store(), r.token(), cfg.settings().ca(),
            wrongKey));
        assertEquals(ErrorCode.BAD_INPUT, e.code());
        assertNotNull(CaInit.importCertificate(r.store(), r.token(), cfg.settings().ca(), issued), "first exchange certificate");
      }
      try (CaNode node = CaNode.start(cfg)) {
        KeyPair kp = TestCa.ecKey();
        SecretService.NewSecret s = node.services().secrets().create(Identity.localOperator(), "User", new X500Name("CN=Sub"));
        try (CmpClient c = new CmpClient(CmpTransport.connect("tls://127.0.0.1:" + node.binaryPort(),
            org.keyarc.protocol.tls.TlsPolicy.clientContext(issued, null)),
            new Protection.Mac(s.reference(), s.secret(), false), issued)) {
          X509CertificateHolder cert = c.enroll(PKIBody.TYPE_INIT_REQ, new X500Name("CN=Sub"), TestCa.spki(kp),
              TestCa.pop(kp), null, false, null).enrolled().cert();
          assertEquals(new X500Name("CN=keyarc Issuing CA, O=keyarc"), cert.getIssuer());
          assertTrue(cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new BouncyCastleProvider())
              .build(issued)));
        }
      }
    }
  }

  @Test
  void exchangeKeyIsRenewedBeforeExpiryAndOldOnesKept() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> {
      cfg.ca.exchangeValidityDays = 3;
      cfg.ca.exchangeRenewBeforeDays = 1;
    })) {
      CaServices now = ca.services();
      CaKeyring.Exchange first = now.keys().currentExchange(Instant.now()).orElseThrow();
      assertTrue(now.exchange().renewIfDue("test").isEmpty(), "not due yet");
      // two and a half days later the first exchange certificate has less than a day left
      CaServices later = CaServices.wire(ca.cfg.settings(), now.store(), now.keys(), Templates.of(ca.cfg.configuredTemplates()),
          Clock.offset(Clock.systemUTC(), Duration.ofHours(60)));
      X509CertificateHolder renewed = later.exchange().renewIfDue("test").orElseThrow();
      assertEquals(2, now.keys().exchanges().size(), "the old exchange key is kept");
      assertEquals(renewed, now.keys().exchanges().get(0).cert());
      assertEquals(first.cert(), now.keys().exchanges().get(1).cert());
      assertEquals(renewed, now.keys().currentExchange(Instant.now().plus(Duration.ofHours(60))).orElseThrow().cert());
      assertNotEquals(first.label(), now.keys().exchanges().get(0).label());
      assertTrue(now.keys().token().call(s -> s.attributes(now.keys().exchanges().get(0).key())).sensitive());
    }
  }

  @Test
  void certificateWithoutCertConfIsRevokedAfterTheTimeout() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> cfg.timers.certConfTimeoutSeconds = 30)) {
      CaServices s = ca.services();
      Outcome.Issued out = (Outcome.Issued) s.enrollment().enroll(new EnrollRequest(Identity.localOperator(), new EnrollRequest.ClientRef("no-certconf-tx", 0, "ir"), s.templates().require("User"), new X500Name("CN=Silent"),
          TestCa.spki(TestCa.ecKey()), null, false, null));
      BigInteger serial = out.cert().getSerialNumber();
      assertEquals(CertRecord.Status.UNCONFIRMED, s.certificates().show(Identity.localOperator(), serial).status());
      assertEquals(0, s.enrollment().reapUnconfirmed(), "not yet");
      CaServices later = CaServices.wire(ca.cfg.settings(), s.store(), s.keys(), s.templates(),
          Clock.offset(Clock.systemUTC(), Duration.ofSeconds(31)));
      assertEquals(1, later.enrollment().reapUnconfirmed());
      assertEquals(CertRecord.Status.REVOKED, s.certificates().show(Identity.localOperator(), serial).status());
      assertNotNull(later.crls().current().getRevokedCertificate(serial), "and it is on the CRL");
    }
  }

  @Test
  void keyUpdateKeepsSubjectAndTemplate() throws Exception {
    try (TestCa ca = TestCa.start()) {
      TestCa.Enrollee old = ca.enrollUser("CN=Updater");
      KeyPair fresh = TestCa.ecKey();
      try (CmpClient c = ca.signedClient(ca.binaryUrl(), old)) {
        X509CertificateHolder updated = c.enroll(PKIBody.TYPE_KEY_UPDATE_REQ, new X500Name("CN=Someone Else"),
            TestCa.spki(fresh), TestCa.pop(fresh), null, false, null).enrolled().cert();
        assertEquals(new X500Name("CN=Updater"), updated.getSubject(), "kur keeps the subject of the old certificate");
        assertArrayEquals(fresh.getPublic().getEncoded(), updated.getSubjectPublicKeyInfo().getEncoded());
        assertEquals("User", ca.services().certificates().templateOf(updated.getSerialNumber()));
      }
    }
  }

  @Test
  void macWithShortSaltIsRefused() throws Exception {
    try (TestCa ca = TestCa.start()) {
      SecretService.NewSecret s = ca.secret("User", "CN=Salty");
      try (CmpClient c = new CmpClient(ca.transport(ca.binaryUrl()),
          new Protection.Mac(s.reference(), s.secret(), false), ca.caCert())) {
        // the client library always uses 16 bytes; build one PBM message with a 4-byte salt by hand
        byte[] msg = ShortSalt.irWithSalt(s, 4, ca.caCert());
        byte[] answer = ca.transport(ca.binaryUrl()).send(msg).get();
        CmpClientException e = assertThrows(CmpClientException.class, () -> c.certificateOf(answer));
        assertEquals(ErrorCode.BAD_MESSAGE_CHECK, e.code());
        assertTrue(e.getMessage().contains("the MAC salt is 4 bytes; 16..64 are required"), e.getMessage());
      }
    }
  }

}
