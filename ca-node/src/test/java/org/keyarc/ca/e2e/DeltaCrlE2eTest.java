package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17, delta CRLs: with {@code timers.deltaCrlMinutes} set, a delta CRL lists what was revoked since the last
 * complete CRL, carries the number of the oldest complete CRL still valid in its critical deltaCRLIndicator and the next number of the shared
 * sequence, and is served at GET /crl-delta; the complete CRL names it in freshestCRL. OpenSSL, given both
 * ({@code -crl_check -use_deltas}), rejects a certificate revoked after the complete CRL, which the complete CRL
 * alone still passes.
 */
class DeltaCrlE2eTest {
  @Test
  void aRevocationAfterTheCompleteCrlIsInTheDeltaAndOpensslUsesIt() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> {
      cfg.ca.publicUrl = "http://pki.example/";
      cfg.timers.deltaCrlMinutes = 15;
    })) {
      Path dir = Files.createTempDirectory(ca.dir, "delta-");
      X509CertificateHolder early = ca.enrollUser("CN=Revoked Early").cert();
      X509CertificateHolder late = ca.enrollUser("CN=Revoked Late").cert();
      X509CertificateHolder good = ca.enrollUser("CN=Still Good").cert();
      ca.services().revocation().revoke(Agents.MANAGER, early.getSerialNumber(), 1, null);
      X509CRLHolder base = ca.services().crls().publish("test");
      ca.services().revocation().revoke(Agents.MANAGER, late.getSerialNumber(), 1, null);
      X509CRLHolder delta = ca.services().crls().publishDelta("test");

      long baseNumber = number(base, Extension.cRLNumber);
      // its base is the oldest complete CRL still valid: whoever holds any valid complete CRL can use the delta
      assertTrue(number(delta, Extension.deltaCRLIndicator) <= baseNumber, "the delta's base is at most the newest");
      assertTrue(delta.getExtension(Extension.deltaCRLIndicator).isCritical());
      assertTrue(number(delta, Extension.cRLNumber) > baseNumber, "one sequence of numbers for both kinds");
      assertNotNull(base.getExtension(Extension.freshestCRL), "the complete CRL says where its deltas are");
      assertEquals(1, delta.getRevokedCertificates().size(), "only what the complete CRL does not list");
      assertNotNull(delta.getRevokedCertificate(late.getSerialNumber()));

      // served over HTTP, as a relying party fetches it
      java.net.http.HttpResponse<byte[]> got = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(ca.httpUrl() + "crl-delta")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, got.statusCode());
      assertEquals(number(delta, Extension.cRLNumber), number(new X509CRLHolder(got.body()), Extension.cRLNumber));

      Pem.write(dir, "ca.pem", ca.caCert());
      Pem.write(dir, "late.pem", late);
      Pem.write(dir, "good.pem", good);
      Pem.write(dir, "base.pem", base);
      Files.writeString(dir.resolve("both.pem"), Pem.text(base) + Pem.text(delta));
      OpensslCmpE2eTest.Run baseOnly = openssl(dir, "verify", "-crl_check", "-CRLfile", "base.pem", "-CAfile",
          "ca.pem", "late.pem");
      assertEquals(0, baseOnly.exit(), "the complete CRL alone does not know the late revocation: "
          + baseOnly.output());
      OpensslCmpE2eTest.Run withDelta = openssl(dir, "verify", "-crl_check", "-use_deltas", "-CRLfile", "both.pem",
          "-CAfile", "ca.pem", "late.pem");
      assertTrue(withDelta.exit() != 0 && withDelta.output().contains("certificate revoked"), withDelta.output());
      OpensslCmpE2eTest.Run stillGood = openssl(dir, "verify", "-crl_check", "-use_deltas", "-CRLfile", "both.pem",
          "-CAfile", "ca.pem", "good.pem");
      assertEquals(0, stillGood.exit(), stillGood.output());
    }
  }

  private static long number(X509CRLHolder crl, org.bouncycastle.asn1.ASN1ObjectIdentifier ext) {
    BigInteger n = CRLNumber.getInstance(ASN1Integer.getInstance(crl.getExtension(ext).getParsedValue()))
        .getCRLNumber();
    return n.longValueExact();
  }
}
