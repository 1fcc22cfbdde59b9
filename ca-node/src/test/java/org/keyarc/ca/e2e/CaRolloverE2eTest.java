package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.cmp.CMPCertificate;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.cmp.RootCaKeyUpdateContent;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CRLEntryHolder;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.node.CaNode;
import org.keyarc.ca.store.DirectSql;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17, CA key rollover ({@code keyarc ca rollover}): a new key under the same name signs from the next start,
 * while the old key still publishes the CRL at /crl and certifies an OCSP signer for what it issued. Everything is
 * fetched over the node's HTTP listener and judged by OpenSSL: each key's CRL revokes its own certificates only, a
 * relying party that trusts only the old root reaches a new certificate through NewWithOld (and not without it),
 * {@code openssl ocsp} gets verified answers for both keys' certificates.
 */
class CaRolloverE2eTest {
  @Test
  void theNewKeySignsWhileTheOldOneStillAnswersForWhatItIssued() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> cfg.ca.publicUrl = "http://pki.example/keyarc")) {
      Path dir = Files.createTempDirectory(ca.dir, "rollover-");
      X509CertificateHolder old = ca.caCert();
      TestCa.Enrollee issuedBefore = ca.enrollUser("CN=Issued Before");
      X509CertificateHolder before = issuedBefore.cert();
      KeyPair beforeKeys = issuedBefore.keys();
      X509CertificateHolder revokedBefore = ca.enrollUser("CN=Revoked Before").cert();
      ca.node.close();
      CaInit.Rollover done;
      try (CaNode.Resources r = CaNode.open(ca.cfg)) {
        // a root does not roll over through a parent's request, and a rollover must outlast the current certificate
        CaException viaCsr = assertThrows(CaException.class, () -> CaInit.rolloverRequest(r.store(), r.token(),
            ca.cfg.settings().ca()));
        assertTrue(viaCsr.getMessage().contains("self-signed root"), viaCsr.getMessage());
        int years = ca.cfg.ca.validityYears;
        ca.cfg.ca.validityYears = 1;
        try {
          CaException shorter = assertThrows(CaException.class, () -> CaInit.rollover(r.store(), r.token(),
              ca.cfg.settings().ca()));
          assertTrue(shorter.getMessage().contains("would end before the current one"), shorter.getMessage());
        } finally {
          ca.cfg.ca.validityYears = years;
        }
        assertEquals(1, r.store().inTransaction(tx -> tx.caKeys().list(org.keyarc.ca.store.CaKeyStore.Kind.CA)).size(),
            "the refusals left no key row");
        done = CaInit.rollover(r.store(), r.token(), ca.cfg.settings().ca());
      }
      ca.node = CaNode.start(ca.cfg);
      X509CertificateHolder neu = done.caCert();
      assertEquals(1, done.generation());
      assertEquals(neu, ca.caCert(), "the node signs with the new key after its restart");
      assertEquals(old.getSubject(), neu.getSubject(), "the same name");
      assertNotEquals(old.getSubjectPublicKeyInfo(), neu.getSubjectPublicKeyInfo(), "a new key");

      X509CertificateHolder after = ca.enrollUser("CN=Issued After").cert();
      X509CertificateHolder revokedAfter = ca.enrollUser("CN=Revoked After").cert();
      assertTrue(after.isSignatureValid(new JcaContentVerifierProviderBuilder().build(neu)), "the new key signed it");
      assertEquals("http://pki.example/keyarc/crl/1", cdp(after));
      assertEquals("http://pki.example/keyarc/ca.crt/1", caIssuers(after));
      assertEquals("http://pki.example/keyarc/crl", cdp(before), "what the old key signed keeps its links");
      ca.services().revocation().revoke(Agents.MANAGER, revokedBefore.getSerialNumber(), 1, null);
      ca.services().revocation().revoke(Agents.MANAGER, revokedAfter.getSerialNumber(), 1, null);

      // each key's CRL, over HTTP: signed by that key, listing every revocation of the CA's name (a relying party
      // may take either for any certificate of this name: none may leave one out)
      X509CRLHolder crl0 = new X509CRLHolder(get(ca, "crl").body());
      X509CRLHolder crl1 = new X509CRLHolder(get(ca, "crl/1").body());
      assertTrue(crl0.isSignatureValid(new JcaContentVerifierProviderBuilder().build(old)));
      assertTrue(crl1.isSignatureValid(new JcaContentVerifierProviderBuilder().build(neu)));
      Set<BigInteger> both = Set.of(revokedBefore.getSerialNumber(), revokedAfter.getSerialNumber());
      assertEquals(both, serials(crl0));
      assertEquals(both, serials(crl1));
      assertEquals(neu, new X509CertificateHolder(get(ca, "ca.crt/1").body()));
      assertEquals(old, new X509CertificateHolder(get(ca, "ca.crt").body()), "/ca.crt stays the old key's (AIA)");
      assertEquals(404, get(ca, "crl/7").statusCode());
      assertEquals(404, get(ca, "ca.crt/7").statusCode());
      String all = new String(get(ca, "ca-certs.pem").body(), java.nio.charset.StandardCharsets.US_ASCII);
      assertEquals(4, all.split("BEGIN CERTIFICATE", -1).length - 1, "both CA certificates and both cross-certificates");

      Pem.write(dir, "old.pem", old);
      Pem.write(dir, "new.pem", neu);
      Pem.write(dir, "newwithold.pem", done.newWithOld());
      Pem.write(dir, "oldwithnew.pem", done.oldWithNew());
      Pem.write(dir, "crl0.pem", crl0);
      Pem.write(dir, "crl1.pem", crl1);
      for (var e : java.util.Map.of("before.pem", before, "rb.pem", revokedBefore, "after.pem", after, "ra.pem",
          revokedAfter).entrySet()) {
        Pem.write(dir, e.getKey(), e.getValue());
      }
      ok(openssl(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl0.pem", "-CAfile", "old.pem",
          "before.pem"));
      revoked(openssl(dir, "verify", "-crl_check", "-CRLfile", "crl0.pem", "-CAfile", "old.pem", "rb.pem"));
      ok(openssl(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl1.pem", "-CAfile", "new.pem",
          "after.pem"));
      revoked(openssl(dir, "verify", "-crl_check", "-CRLfile", "crl1.pem", "-CAfile", "new.pem", "ra.pem"));
      // a relying party that takes the new key's CRL for an old key's certificate (RFC 5280 6.3.3, OpenSSL's
      // -extended_crl, the path through NewWithOld) still finds the revocation
      revoked(openssl(dir, "verify", "-extended_crl", "-crl_check", "-CRLfile", "crl1.pem", "-CAfile", "old.pem",
          "-untrusted", "newwithold.pem", "rb.pem"));
      revoked(openssl(dir, "verify", "-extended_crl", "-crl_check", "-CRLfile", "crl0.pem", "-CAfile", "new.pem",
          "-untrusted", "oldwithnew.pem", "ra.pem"));

      // cross-certificates: trusting only the old root, a new certificate verifies through NewWithOld, not without
      ok(openssl(dir, "verify", "-x509_strict", "-CAfile", "old.pem", "-untrusted", "newwithold.pem", "after.pem"));
      OpensslCmpE2eTest.Run noCross = openssl(dir, "verify", "-CAfile", "old.pem", "after.pem");
      assertTrue(noCross.exit() != 0, noCross.output());
      ok(openssl(dir, "verify", "-x509_strict", "-CAfile", "new.pem", "-untrusted", "oldwithnew.pem", "before.pem"));

      // TLS: a client trusting only the old root, and one trusting only the new, both verify the node's chain
      for (String anchor : List.of("old.pem", "new.pem")) {
        OpensslCmpE2eTest.Run tls = sClient(dir, "-connect", "127.0.0.1:" + ca.node.binaryPort(), "-CAfile",
            anchor, "-verify_return_error", "-brief");
        assertTrue(tls.output().contains("Verification: OK"), anchor + ": " + tls.output());
      }

      // OCSP for both keys' certificates, each answer verified by OpenSSL against that key's certificate
      String url = "http://127.0.0.1:" + ca.node.httpPort() + "/ocsp";
      OpensslCmpE2eTest.Run good0 = openssl(dir, "ocsp", "-issuer", "old.pem", "-CAfile", "old.pem", "-url", url,
          "-cert", "before.pem", "-cert", "rb.pem");
      assertTrue(good0.output().contains("Response verify OK"), good0.output());
      assertTrue(good0.output().contains("before.pem: good") && good0.output().contains("rb.pem: revoked"),
          good0.output());
      OpensslCmpE2eTest.Run good1 = openssl(dir, "ocsp", "-issuer", "new.pem", "-CAfile", "new.pem", "-url", url,
          "-cert", "after.pem", "-cert", "ra.pem");
      assertTrue(good1.output().contains("Response verify OK"), good1.output());
      assertTrue(good1.output().contains("after.pem: good") && good1.output().contains("ra.pem: revoked"),
          good1.output());
      // a certificate of one key asked about with the other key as issuer: not that key's, unknown
      OpensslCmpE2eTest.Run crossed = openssl(dir, "ocsp", "-issuer", "new.pem", "-CAfile", "new.pem", "-url", url,
          "-cert", "before.pem");
      assertTrue(crossed.output().contains("before.pem: unknown"), crossed.output());

      // a certificate the old key signed still authenticates its holder over CMP: it revokes itself
      TestCa.Enrollee oldHolder = new TestCa.Enrollee(beforeKeys, before);
      try (var c = ca.signedClient(ca.binaryUrl(), oldHolder)) {
        // RFC 9483 4.3.2's root CA key update: asked with the old root, the new one and both cross-certificates
        var rep = c.genm(new org.bouncycastle.asn1.cmp.InfoTypeAndValue(CMPObjectIdentifiers.id_it_rootCaCert,
            new CMPCertificate(old.toASN1Structure())));
        assertEquals(CMPObjectIdentifiers.id_it_rootCaKeyUpdate, rep.get(0).getInfoType());
        RootCaKeyUpdateContent update = RootCaKeyUpdateContent.getInstance(rep.get(0).getInfoValue());
        assertEquals(neu, new X509CertificateHolder(update.getNewWithNew().getX509v3PKCert()));
        assertEquals(done.newWithOld(), new X509CertificateHolder(update.getNewWithOld().getX509v3PKCert()));
        assertEquals(done.oldWithNew(), new X509CertificateHolder(update.getOldWithNew().getX509v3PKCert()));
        var none = c.genm(new org.bouncycastle.asn1.cmp.InfoTypeAndValue(CMPObjectIdentifiers.id_it_rootCaCert,
            new CMPCertificate(neu.toASN1Structure())));
        assertEquals(null, none.get(0).getInfoValue(), "asked with the current root: no update");
        var caCerts = c.genm(new org.bouncycastle.asn1.cmp.InfoTypeAndValue(CMPObjectIdentifiers.id_it_caCerts));
        org.bouncycastle.asn1.ASN1Sequence certs = org.bouncycastle.asn1.ASN1Sequence.getInstance(
            caCerts.get(0).getInfoValue());
        assertEquals(List.of(neu, old), List.of(new X509CertificateHolder(CMPCertificate.getInstance(certs
            .getObjectAt(0)).getX509v3PKCert()), new X509CertificateHolder(CMPCertificate.getInstance(certs
            .getObjectAt(1)).getX509v3PKCert())), "caCerts: both keys' certificates, the current first");
        c.revoke(before.getIssuer(), before.getSerialNumber(), 4);
      }
      assertEquals(org.keyarc.ca.store.CertRecord.Status.REVOKED, ca.services().store().inTransaction(tx ->
          tx.certificates().find(old.getSubject().toString(), before.getSerialNumber())).orElseThrow().status());

      assertTrue(AuditService.verify(ca.services().store(), ca.services().keys().token()).ok());
      assertTrue(ca.services().store().inTransaction(tx -> tx.audit().all()).stream()
          .anyMatch(x -> x.action().equals("ca.rollover")), "the rollover is audited");
    }
  }

  /**
   * A store edit that puts another key's certificate in place of the CA's (to have the node trust client
   * certificates the editor signs) stops the node at start: each CA certificate must be for the key the CA token
   * holds under its label.
   */
  @Test
  void aCaCertificateSwappedInTheStoreStopsTheNode() throws Exception {
    try (TestCa ca = TestCa.start()) {
      X509CertificateHolder real = ca.caCert();
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(256);
      KeyPair mine = g.generateKeyPair();
      X509CertificateHolder forged = new X509v3CertificateBuilder(real.getSubject(), BigInteger.valueOf(4711),
          Date.from(Instant.now().minusSeconds(60)), real.getNotAfter(), real.getSubject(),
          SubjectPublicKeyInfo.getInstance(mine.getPublic().getEncoded()))
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(mine.getPrivate()));
      DirectSql.run(ca.services().store(), c -> {
        try (PreparedStatement ps = c.prepareStatement("UPDATE ca_key SET cert = ? WHERE kind = 'CA'")) {
          ps.setBytes(1, forged.getEncoded());
          ps.executeUpdate();
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
        return null;
      });
      ca.node.close();
      CaException refused = assertThrows(CaException.class, () -> CaNode.start(ca.cfg).close());
      assertEquals(ErrorCode.STORE_ERROR, refused.code(), refused.getMessage());
      assertTrue(refused.getMessage().contains("the store was edited"), refused.getMessage());
      ca.node = null;
    }
  }

  /**
   * A CA key row added in the store (here a second row for the CA's own key, which would renumber the keys) stops
   * the node at start: the CA token keeps the digest of the CA key rows the ceremonies left.
   */
  @Test
  void aCaKeyRowAddedInTheStoreStopsTheNode() throws Exception {
    try (TestCa ca = TestCa.start()) {
      DirectSql.run(ca.services().store(), c -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ca_key (kind, key_label, not_before, not_after, "
            + "created_at, cert, public_key) SELECT kind, 'ca-signing-extra', not_before, not_after, created_at, cert, "
            + "public_key FROM ca_key WHERE kind = 'CA'")) {
          ps.executeUpdate();
        }
        return null;
      });
      ca.node.close();
      CaException refused = assertThrows(CaException.class, () -> CaNode.start(ca.cfg).close());
      assertEquals(ErrorCode.STORE_ERROR, refused.code(), refused.getMessage());
      assertTrue(refused.getMessage().contains("list of CA keys"), refused.getMessage());
      ca.node = null;
    }
  }

  /** {@code openssl s_client ARGS} with its standard input closed at once (it ends after the handshake). */
  private static OpensslCmpE2eTest.Run sClient(Path dir, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl", "s_client"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "openssl finished");
    return new OpensslCmpE2eTest.Run(p.exitValue(), out);
  }

  private static HttpResponse<byte[]> get(TestCa ca, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ca.httpUrl() + path)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Set<BigInteger> serials(X509CRLHolder crl) {
    return ((java.util.Collection<?>) crl.getRevokedCertificates()).stream()
        .map(e -> ((X509CRLEntryHolder) e).getSerialNumber()).collect(Collectors.toSet());
  }

  private static String cdp(X509CertificateHolder cert) {
    CRLDistPoint cdp = CRLDistPoint.getInstance(cert.getExtension(Extension.cRLDistributionPoints).getParsedValue());
    return GeneralNames.getInstance(cdp.getDistributionPoints()[0].getDistributionPoint().getName()).getNames()[0]
        .getName().toString();
  }

  private static String caIssuers(X509CertificateHolder cert) {
    for (AccessDescription d : AuthorityInformationAccess.fromExtensions(cert.getExtensions()).getAccessDescriptions()) {
      if (d.getAccessMethod().equals(AccessDescription.id_ad_caIssuers)) {
        return d.getAccessLocation().getName().toString();
      }
    }
    return null;
  }

  private static void ok(OpensslCmpE2eTest.Run r) {
    assertEquals(0, r.exit(), r.output());
  }

  private static void revoked(OpensslCmpE2eTest.Run r) {
    assertTrue(r.exit() != 0 && r.output().contains("certificate revoked"), r.output());
    assertFalse(r.output().isEmpty());
  }
}
