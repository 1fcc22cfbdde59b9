package org.keyarc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMECapability;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.OaepHash;

/** The RSA-OAEP a certificate lists in sMIMECapabilities, and the one hash chosen for a set of recipients. */
class OaepCapabilitiesTest {
  private static final KeyPair KEY = rsa();

  private static KeyPair rsa() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A certificate with {@code caps} as its sMIMECapabilities (null: without the extension). */
  private static X509CertificateHolder cert(ASN1Encodable caps) throws Exception {
    X509v3CertificateBuilder b = new X509v3CertificateBuilder(new X500Name("CN=t"), BigInteger.ONE, new Date(),
        new Date(System.currentTimeMillis() + 86_400_000L), new X500Name("CN=t"),
        SubjectPublicKeyInfo.getInstance(KEY.getPublic().getEncoded()));
    if (caps != null) {
      b.addExtension(PKCSObjectIdentifiers.pkcs_9_at_smimeCapabilities, false, caps);
    }
    return b.build(new JcaContentSignerBuilder("SHA256withRSA").build(KEY.getPrivate()));
  }

  @Test
  void theFirstOaepEntryKeyarcDoesIsPreferred() throws Exception {
    assertEquals(OaepHash.SHA256, OaepCapabilities.preferred(cert(OaepCapabilities.of(true))));
    assertEquals(OaepHash.SHA1, OaepCapabilities.preferred(cert(OaepCapabilities.of(false))));
    assertNull(OaepCapabilities.preferred(cert(null)), "a certificate made before keyarc listed them");
    // another tool's list: AES first, then OAEP with absent parameters (SHA-1 by RFC 4055's defaults)
    assertEquals(OaepHash.SHA1, OaepCapabilities.preferred(cert(new DERSequence(new ASN1Encodable[] {
        new SMIMECapability(org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_aes256_CBC, null),
        new SMIMECapability(PKCSObjectIdentifiers.id_RSAES_OAEP, null)}))));
  }

  @Test
  void envelopesToSeveralUseSha256OnlyWhenEveryoneListsIt() throws Exception {
    X509CertificateHolder both = cert(OaepCapabilities.of(true));
    X509CertificateHolder sha1 = cert(OaepCapabilities.of(false));
    X509CertificateHolder none = cert(null);
    assertEquals(OaepHash.SHA256, OaepCapabilities.forAll(List.of(both, both)));
    assertEquals(OaepHash.SHA1, OaepCapabilities.forAll(List.of(both, sha1)));
    assertEquals(OaepHash.SHA1, OaepCapabilities.forAll(List.of(both, none)));
    assertEquals(OaepHash.SHA1, OaepCapabilities.forAll(List.of()));
  }

  @Test
  void theOptionAutoReadsTheCertificateAndTheOthersAreTaken() throws Exception {
    assertEquals(OaepHash.SHA256, OaepCapabilities.choose("auto", cert(OaepCapabilities.of(true))));
    assertEquals(OaepHash.SHA1, OaepCapabilities.choose("auto", cert(null)));
    assertEquals(OaepHash.SHA1, OaepCapabilities.choose("sha1", cert(OaepCapabilities.of(true))));
    assertEquals(OaepHash.SHA256, OaepCapabilities.choose("SHA-256", cert(null)));
    assertThrows(IllegalArgumentException.class, () -> OaepCapabilities.choose("md5", cert(null)));
  }
}
