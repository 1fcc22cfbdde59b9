package org.keyarc.ca.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

/** Key usage follows the subject key: RFC 5480 for EC, RFC 3279 for RSA. */
class CertFactoryTest {
  private static SubjectPublicKeyInfo key(String alg) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
    if (alg.equals("EC")) {
      g.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      g.initialize(2048);
    }
    return SubjectPublicKeyInfo.getInstance(g.generateKeyPair().getPublic().getEncoded());
  }

  @Test
  void ecKeysAgreeKeysAndNeverEncipher() throws Exception {
    SubjectPublicKeyInfo ec = key("EC");
    assertEquals(KeyUsage.keyAgreement, CertFactory.keyUsage(KeyUsage.keyEncipherment | KeyUsage.dataEncipherment, ec));
    assertEquals(KeyUsage.digitalSignature | KeyUsage.keyAgreement,
        CertFactory.keyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment, ec));
    assertEquals(KeyUsage.digitalSignature, CertFactory.keyUsage(KeyUsage.digitalSignature, ec));
  }

  @Test
  void rsaKeysEncipherAndNeverAgree() throws Exception {
    SubjectPublicKeyInfo rsa = key("RSA");
    assertEquals(KeyUsage.digitalSignature | KeyUsage.keyEncipherment,
        CertFactory.keyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment, rsa));
    assertEquals(KeyUsage.keyEncipherment, CertFactory.keyUsage(KeyUsage.keyAgreement, rsa));
  }
}
