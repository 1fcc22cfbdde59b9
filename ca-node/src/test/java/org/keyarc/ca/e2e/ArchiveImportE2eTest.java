package org.keyarc.ca.e2e;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.crmf.EncryptedKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.client.ArchiveEncryption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, import for archival: an existing key, encrypted to the exchange certificate as a client's archival
 * sends it, is archived through the HSM path — the key of a certificate this CA issued without archival — and the
 * agents' cards recover it, also for another CA's certificate (recorded as external). Refused: a key that is not the
 * certificate's, a certificate that names this CA but is not the one it issued, a second import, an auditor.
 */
class ArchiveImportE2eTest {
  @Test
  void existingKeysAreArchivedThroughTheHsmAndRecoveredByTheAgents() throws Exception {
    try (TestCa ca = TestCa.start(cfg -> { }, "kra1")) {
      Agents.Card card = Agents.enroll(ca, "kra1");
      ca.services().agents().setPolicy(Identity.localOperator(), 1, 1);
      X509CertificateHolder exchange = ca.services().keys().exchanges().get(0).cert();
      // a User certificate, issued without archival: its key is the holder's alone
      TestCa.Enrollee user = ca.enrollUser("CN=Archived Later");
      ArchiveStore.Row row = ca.services().archives().importKey(Agents.MANAGER, user.cert(), encrypt(user.keys(),
          exchange));
      assertEquals(user.cert().getSerialNumber(), row.serial());
      byte[] blob = ca.services().archives().getKey(Agents.MANAGER, user.cert().getSerialNumber(), null, null).get(0)
          .blob();
      assertRecovers(blob, card, user.cert());

      CaException twice = assertThrows(CaException.class, () -> ca.services().archives().importKey(Agents.MANAGER,
          user.cert(), encrypt(user.keys(), exchange)));
      assertEquals(ErrorCode.BAD_REQUEST, twice.code());
      assertTrue(twice.getMessage().contains("archived already"), twice.getMessage());

      TestCa.Enrollee other = ca.enrollUser("CN=Wrong Key Offered");
      CaException wrongKey = assertThrows(CaException.class, () -> ca.services().archives().importKey(Agents.MANAGER,
          other.cert(), encrypt(other.keys().getPublic().getAlgorithm().equals("EC") ? TestCa.ecKey()
              : TestCa.rsaKey(2048), exchange)));
      assertEquals(ErrorCode.BAD_POP, wrongKey.code(), wrongKey.getMessage());

      Identity auditor = new Identity(Identity.Kind.CERTIFICATE, "CN=Auditor", Set.of(Role.AUDITOR));
      assertEquals(ErrorCode.NOT_AUTHORIZED, assertThrows(CaException.class, () -> ca.services().archives()
          .importKey(auditor, other.cert(), encrypt(other.keys(), exchange))).code());

      // a certificate with this CA's name, signed by someone else
      KeyPair forger = TestCa.rsaKey(2048);
      X509CertificateHolder forged = selfIssued(ca.caCert().getSubject(), new X500Name("CN=Forged"), forger);
      assertEquals(ErrorCode.BAD_INPUT, assertThrows(CaException.class, () -> ca.services().archives().importKey(
          Agents.MANAGER, forged, encrypt(forger, exchange))).code());

      // another CA's certificate (an old KMS, say): archived as external, its certificate named by hash in the record
      KeyPair old = TestCa.rsaKey(2048);
      X509CertificateHolder external = selfIssued(new X500Name("CN=Old Exchange KMS"), new X500Name("CN=Old User"),
          old);
      ArchiveStore.Row ext = ca.services().archives().importKey(Agents.MANAGER, external, encrypt(old, exchange));
      assertEquals("CN=Old Exchange KMS", ext.issuer());
      byte[] extBlob = ca.services().archives().getKey(Agents.MANAGER, null, null, ext.certSha256()).get(0).blob();
      org.keyarc.protocol.archive.ArchiveRecord rec = org.keyarc.protocol.archive.ArchiveRecord.getInstance(
          (byte[]) new org.bouncycastle.cms.CMSSignedData(extBlob).getSignedContent().getContent());
      assertTrue(java.util.Arrays.equals(java.security.MessageDigest.getInstance("SHA-256").digest(
          external.getEncoded()), rec.certificateHash()), "the signed record names the external certificate");
      assertTrue(new org.bouncycastle.cms.CMSSignedData(extBlob).getCertificates().getMatches(null).contains(external));
      assertRecovers(extBlob, card, external);
      // and its key cannot be imported under another CA's certificate of the same issuer and serial
      X509CertificateHolder twin = new JcaX509v3CertificateBuilder(external.getIssuer(), external.getSerialNumber(),
          new Date(), Date.from(Instant.now().plusSeconds(86400)), new X500Name("CN=Twin"), old.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withRSA").build(old.getPrivate()));
      assertEquals(ErrorCode.BAD_REQUEST, assertThrows(CaException.class, () -> ca.services().archives().importKey(
          Agents.MANAGER, twin, encrypt(old, exchange))).code());
      assertTrue(ca.services().store().inTransaction(tx -> tx.audit().all()).stream().anyMatch(x ->
          x.action().equals("key.archive") && x.detail().startsWith("imported external")));
      card.token().close();
    }
  }

  private static EncryptedKey encrypt(KeyPair kp, X509CertificateHolder exchange) throws Exception {
    return ArchiveEncryption.encryptedValue(PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded()), exchange,
        "SHA-1");
  }

  /** The agent's card opens the blob's record, and the key signs what the certificate's key verifies. */
  private static void assertRecovers(byte[] blob, Agents.Card card, X509CertificateHolder cert) throws Exception {
    byte[] record = (byte[]) new org.bouncycastle.cms.CMSSignedData(blob).getSignedContent().getContent();
    PrivateKey key = new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(Agents.recover(record,
        List.of(card))));
    String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    Signature s = Signature.getInstance(alg);
    s.initSign(key);
    s.update(new byte[] {1, 2, 3});
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(alg);
    v.initVerify(new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo()));
    v.update(new byte[] {1, 2, 3});
    assertTrue(v.verify(sig), "the recovered key is the certificate's");
  }

  private static X509CertificateHolder selfIssued(X500Name issuer, X500Name subject, KeyPair kp) throws Exception {
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(System.nanoTime()), new Date(),
        Date.from(Instant.now().plusSeconds(86400)), subject, kp.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate()));
  }
}
