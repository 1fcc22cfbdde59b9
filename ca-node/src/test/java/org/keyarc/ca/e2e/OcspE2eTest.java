package org.keyarc.ca.e2e;

import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17's validation services, with {@code openssl ocsp} as the client: good, then revoked with its reason
 * after a revocation, and unknown for a serial this CA never issued, each answer verified by OpenSSL against the
 * CA certificate and carrying OpenSSL's nonce; the answers are signed by a delegated OCSP signing key (its own
 * certificate, id-kp-OCSPSigning), not by the CA key; malformed requests get malformedRequest; GET works too;
 * and issued certificates point to the CRL, the OCSP responder and the CA certificate under {@code ca.publicUrl}.
 */
class OcspE2eTest {
  static TestCa ca;
  static Path dir;
  static String url;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCa.start(cfg -> cfg.ca.publicUrl = "http://pki.example/keyarc");
    dir = Files.createTempDirectory(ca.dir, "ocsp-");
    pem(ca.caCert(), "ca.pem");
    url = "http://127.0.0.1:" + ca.node.httpPort() + "/ocsp";
  }

  @AfterAll
  static void stop() throws Exception {
    ca.close();
  }

  private static void pem(Object o, String name) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    Files.writeString(dir.resolve(name), w.toString());
  }

  private static OpensslCmpE2eTest.Run ocsp(String... what) throws Exception {
    String[] base = {"ocsp", "-issuer", "ca.pem", "-url", url, "-CAfile", "ca.pem"};
    String[] all = java.util.Arrays.copyOf(base, base.length + what.length);
    System.arraycopy(what, 0, all, base.length, what.length);
    return openssl(dir, all);
  }

  @Test
  void opensslGetsGoodThenRevokedAndUnknownFromTheDelegatedSigner() throws Exception {
    TestCa.Enrollee olga = ca.enrollUser("CN=Olga Ocsp");
    pem(olga.cert(), "olga.pem");
    OpensslCmpE2eTest.Run good = ocsp("-cert", "olga.pem");
    assertEquals(0, good.exit(), good.output());
    assertTrue(good.output().contains("Response verify OK"), good.output());
    assertTrue(good.output().contains("olga.pem: good"), good.output());
    assertTrue(!good.output().toLowerCase().contains("nonce"), "the nonce came back: " + good.output());

    ca.services().revocation().revoke(Agents.MANAGER, olga.serial(), 1, null);
    OpensslCmpE2eTest.Run revoked = ocsp("-cert", "olga.pem");
    assertTrue(revoked.output().contains("Response verify OK"), revoked.output());
    assertTrue(revoked.output().contains("olga.pem: revoked") && revoked.output().contains("Reason: keyCompromise"),
        revoked.output());

    OpensslCmpE2eTest.Run unknown = ocsp("-serial", "0x7e57");
    assertTrue(unknown.output().contains("Response verify OK"), unknown.output());
    assertTrue(unknown.output().contains("0x7e57: unknown"), unknown.output());
  }

  @Test
  void answersAreSignedByTheOcspKeyNotTheCaKeyAndGetWorks() throws Exception {
    TestCa.Enrollee pia = ca.enrollUser("CN=Pia Ocsp");
    CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
        ca.caCert(), pia.serial());
    byte[] req = new OCSPReqBuilder().addRequest(id).build().getEncoded();
    String encoded = java.net.URLEncoder.encode(java.util.Base64.getEncoder().encodeToString(req),
        java.nio.charset.StandardCharsets.US_ASCII);
    HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/" + encoded))
        .build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    assertEquals("application/ocsp-response", r.headers().firstValue("content-type").orElse(""));
    OCSPResp resp = new OCSPResp(r.body());
    assertEquals(OCSPRespBuilder.SUCCESSFUL, resp.getStatus());
    BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
    assertEquals(null, basic.getResponses()[0].getCertStatus(), "good");
    X509CertificateHolder signer = basic.getCerts()[0];
    assertTrue(ExtendedKeyUsage.fromExtensions(signer.getExtensions()).hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning));
    assertTrue(signer.hasExtensions() && signer.getExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers
        .id_pkix_ocsp_nocheck) != null, "ocsp-nocheck");
    assertEquals(ca.caCert().getSubject(), signer.getIssuer());
    assertTrue(signer.isSignatureValid(new JcaContentVerifierProviderBuilder().build(ca.caCert())));
    assertNotEquals(ca.caCert().getSubjectPublicKeyInfo(), signer.getSubjectPublicKeyInfo(), "not the CA key");
    assertTrue(basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(signer)));

    HttpResponse<byte[]> bad = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/ocsp-request").POST(HttpRequest.BodyPublishers.ofByteArray(
            new byte[] {0x30, 0x03, 0x02, 0x01, 0x05})).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(OCSPRespBuilder.MALFORMED_REQUEST, new OCSPResp(bad.body()).getStatus());
  }

  @Test
  void issuedCertificatesPointToTheCrlTheResponderAndTheCaCertificate() throws Exception {
    X509CertificateHolder cert = ca.enrollUser("CN=Rita Links").cert();
    AuthorityInformationAccess aia = AuthorityInformationAccess.fromExtensions(cert.getExtensions());
    java.util.Map<String, String> access = new java.util.HashMap<>();
    for (AccessDescription d : aia.getAccessDescriptions()) {
      access.put(d.getAccessMethod().getId(), d.getAccessLocation().getName().toString());
    }
    assertEquals("http://pki.example/keyarc/ocsp", access.get(AccessDescription.id_ad_ocsp.getId()));
    assertEquals("http://pki.example/keyarc/ca.crt", access.get(AccessDescription.id_ad_caIssuers.getId()));
    CRLDistPoint cdp = CRLDistPoint.getInstance(cert.getExtension(Extension.cRLDistributionPoints).getParsedValue());
    GeneralName[] names = GeneralNames.getInstance(cdp.getDistributionPoints()[0].getDistributionPoint().getName())
        .getNames();
    assertEquals("http://pki.example/keyarc/crl", names[0].getName().toString());
  }

  private static OCSPResp post(byte[] request) throws Exception {
    HttpResponse<byte[]> r = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).build().send(
        HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(10))
            .header("Content-Type", "application/ocsp-request").POST(HttpRequest.BodyPublishers.ofByteArray(request))
            .build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, r.statusCode());
    return new OCSPResp(r.body());
  }

  /**
   * A revocation that did not go through this node's revocation service — another node, or the certConf
   * timeout — shows at once in what was a pre-produced answer: the status is read from the store every time.
   */
  @Test
  void aPreProducedAnswerNeverOutlivesTheStatusItStates() throws Exception {
    TestCa.Enrollee sam = ca.enrollUser("CN=Sam Cached");
    CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
        ca.caCert(), sam.serial());
    byte[] req = new OCSPReqBuilder().addRequest(id).build().getEncoded(); // no nonce: the answer is cached
    BasicOCSPResp first = (BasicOCSPResp) post(req).getResponseObject();
    assertEquals(null, first.getResponses()[0].getCertStatus(), "good");
    assertEquals(first.getProducedAt(), ((BasicOCSPResp) post(req).getResponseObject()).getProducedAt(),
        "the same pre-produced answer");
    String issuer = ca.caCert().getSubject().toString();
    ca.services().store().inTransaction(tx -> tx.certificates().revoke(issuer, sam.serial(), 1,
        java.time.Instant.now()));
    BasicOCSPResp after = (BasicOCSPResp) post(req).getResponseObject();
    assertTrue(after.getResponses()[0].getCertStatus() instanceof org.bouncycastle.cert.ocsp.RevokedStatus,
        "revoked at once, although this node's revocation service never heard of it");
  }

  /** Requests Bouncy Castle only parses lazily, and CertIDs hashed with MD5: answered, never a hung worker. */
  @Test
  void malformedRequestListsAndWeakHashesAreAnsweredMalformed() throws Exception {
    // OCSPRequest { tbsRequest { requestList { INTEGER 5 } } }: a Request that is not one
    assertEquals(OCSPRespBuilder.MALFORMED_REQUEST, post(new byte[] {0x30, 0x07, 0x30, 0x05, 0x30, 0x03, 0x02, 0x01,
        0x05}).getStatus());
    CertificateID md5 = new CertificateID(new org.bouncycastle.operator.bc.BcDigestCalculatorProvider().get(
        new org.bouncycastle.asn1.x509.AlgorithmIdentifier(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.md5)),
        ca.caCert(), java.math.BigInteger.TEN);
    assertEquals(OCSPRespBuilder.MALFORMED_REQUEST, post(new OCSPReqBuilder().addRequest(md5).build().getEncoded())
        .getStatus());
  }

  /** Unspecified (0) is left out of the answer, as on the CRL; removeFromCRL (8) is refused: no delta CRLs here. */
  @Test
  void anUnspecifiedReasonIsLeftOutAndRemoveFromCrlIsRefused() throws Exception {
    TestCa.Enrollee una = ca.enrollUser("CN=Una Unspecified");
    org.keyarc.ca.CaException e = org.junit.jupiter.api.Assertions.assertThrows(org.keyarc.ca.CaException.class,
        () -> ca.services().revocation().revoke(Agents.MANAGER, una.serial(), 8, null));
    assertTrue(e.getMessage().contains("removeFromCRL) is only for delta CRLs"), e.getMessage());
    ca.services().revocation().revoke(Agents.MANAGER, una.serial(), 0, null);
    CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
        ca.caCert(), una.serial());
    Object status = ((BasicOCSPResp) post(new OCSPReqBuilder().addRequest(id).build().getEncoded())
        .getResponseObject()).getResponses()[0].getCertStatus();
    assertTrue(status instanceof org.bouncycastle.cert.ocsp.RevokedStatus r && !r.hasRevocationReason(),
        "revoked, with no reason");
  }
}
