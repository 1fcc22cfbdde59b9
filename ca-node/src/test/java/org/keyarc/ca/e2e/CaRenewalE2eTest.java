package org.keyarc.ca.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.keys.CaInit;
import org.keyarc.ca.node.CaNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.keyarc.ca.e2e.OpensslCmpE2eTest.openssl;

/**
 * Issue 17, CA certificate renewal with the same key ({@code keyarc ca renew}): a new self-signed certificate, same
 * name and key, later end. A certificate issued before verifies under the new CA certificate and one issued after
 * under the old; a CRL signed after the renewal checks the old ones — OpenSSL judges each.
 */
class CaRenewalE2eTest {
  @Test
  void aRenewedRootKeepsItsKeySoOldAndNewCertificatesAndCrlsVerifyEitherWay() throws Exception {
    try (TestCa ca = TestCa.start()) {
      Path dir = Files.createTempDirectory(ca.dir, "renew-");
      X509CertificateHolder old = ca.caCert();
      X509CertificateHolder before = ca.enrollUser("CN=Issued Before").cert();
      X509CertificateHolder revoked = ca.enrollUser("CN=Revoked Before").cert();
      ca.node.close();
      X509CertificateHolder renewed;
      try (CaNode.Resources r = CaNode.open(ca.cfg)) {
        renewed = CaInit.renew(r.store(), r.token(), ca.cfg.settings().ca());
      }
      ca.node = CaNode.start(ca.cfg);
      assertEquals(renewed, ca.caCert(), "the node serves the renewed certificate after its restart");
      assertNotEquals(old.getSerialNumber(), renewed.getSerialNumber());
      assertEquals(old.getSubjectPublicKeyInfo(), renewed.getSubjectPublicKeyInfo(), "the same key");
      assertEquals(old.getSubject(), renewed.getSubject(), "the same name");
      assertTrue(renewed.getNotAfter().after(old.getNotAfter()), "it ends later");
      X509CertificateHolder after = ca.enrollUser("CN=Issued After").cert();
      ca.services().revocation().revoke(Agents.MANAGER, revoked.getSerialNumber(), 1, null);

      Pem.write(dir, "old.pem", old);
      Pem.write(dir, "new.pem", renewed);
      Pem.write(dir, "before.pem", before);
      Pem.write(dir, "after.pem", after);
      Pem.write(dir, "revoked.pem", revoked);
      Pem.write(dir, "crl.pem", ca.services().crls().current());
      assertOk(openssl(dir, "verify", "-x509_strict", "-CAfile", "new.pem", "before.pem"));
      assertOk(openssl(dir, "verify", "-x509_strict", "-CAfile", "old.pem", "after.pem"));
      assertOk(openssl(dir, "verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "old.pem", "before.pem"));
      OpensslCmpE2eTest.Run bad = openssl(dir, "verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "old.pem",
          "revoked.pem");
      assertTrue(bad.exit() != 0 && bad.output().contains("certificate revoked"), bad.output());
      assertTrue(AuditService.verify(ca.services().store(), ca.services().keys().token()).ok());
      assertTrue(ca.services().store().inTransaction(tx -> tx.audit().all()).stream()
          .anyMatch(x -> x.action().equals("ca.renew")), "the renewal is audited");
    }
  }

  private static void assertOk(OpensslCmpE2eTest.Run r) {
    assertEquals(0, r.exit(), r.output());
  }
}
