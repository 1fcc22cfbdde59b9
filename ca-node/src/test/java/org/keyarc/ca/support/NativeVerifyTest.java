package org.keyarc.ca.support;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.ContentVerifier;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot path's verifier: the native provider on this machine (Linux x86-64), good signatures accepted and bad ones
 * refused with EC, RSA and RSA-PSS, and a key type the native provider does not offer verified by Bouncy Castle.
 */
class NativeVerifyTest {
  static boolean verifies(KeyPair kp, String alg, boolean tamper) throws Exception {
    ContentSigner signer = new JcaContentSignerBuilder(alg).setProvider(org.keyarc.protocol.Bc.PROVIDER)
        .build(kp.getPrivate());
    byte[] data = "keyarc proof of possession".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    signer.getOutputStream().write(data);
    byte[] sig = signer.getSignature();
    if (tamper) {
      sig[sig.length / 2] ^= 1;
    }
    ContentVerifier v = NativeVerify.of(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()))
        .get(signer.getAlgorithmIdentifier());
    v.getOutputStream().write(data);
    return v.verify(sig);
  }

  @Test
  void theNativeProviderLoadsHereAndVerifiesLikeBouncyCastle() throws Exception {
    if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
      assertEquals("AmazonCorrettoCryptoProvider", NativeVerify.providerName());
    }
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair p256 = ec.generateKeyPair();
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair r = rsa.generateKeyPair();
    for (Object[] c : new Object[][] {{p256, "SHA256withECDSA"}, {r, "SHA256withRSA"}, {r, "SHA256withRSAandMGF1"}}) {
      assertTrue(verifies((KeyPair) c[0], (String) c[1], false), c[1] + " good");
      assertFalse(verifies((KeyPair) c[0], (String) c[1], true), c[1] + " tampered");
    }
    KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA"); // not the native provider's: Bouncy Castle's
    dsa.initialize(2048);
    KeyPair d = dsa.generateKeyPair();
    assertTrue(verifies(d, "SHA256withDSA", false));
    assertFalse(verifies(d, "SHA256withDSA", true));
  }

  /**
   * The point of it: the verification itself runs in the native provider for EC and RSA, not only its key decoding (a
   * profile of the node found every POP still verified by Bouncy Castle behind the native provider's name), and in
   * Bouncy Castle for RSASSA-PSS and DSA.
   */
  @Test
  void ecAndRsaAreVerifiedByTheNativeProviderItself() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux")
        && System.getProperty("os.arch").equals("amd64"), "the native provider is built for Linux x86-64");
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair r = rsa.generateKeyPair();
    KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA");
    dsa.initialize(2048);
    for (Object[] c : new Object[][] {{ec.generateKeyPair(), "SHA256withECDSA", "AmazonCorrettoCryptoProvider"},
        {r, "SHA256withRSA", "AmazonCorrettoCryptoProvider"}, {r, "SHA256withRSAandMGF1", "BC"},
        {dsa.generateKeyPair(), "SHA256withDSA", "BC"}}) {
      KeyPair kp = (KeyPair) c[0];
      org.bouncycastle.asn1.x509.AlgorithmIdentifier alg = new org.bouncycastle.operator
          .DefaultSignatureAlgorithmIdentifierFinder().find((String) c[1]);
      ContentVerifier v = NativeVerify.of(SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded())).get(alg);
      assertEquals(c[2], NativeVerify.providerOf(v), c[1] + " is verified by " + c[2]);
    }
  }

  /**
   * The reviewer's weak RSA key: a "key" whose modulus is prime (or has small factors) has a private half anyone can
   * compute, and its POP still verifies. Bouncy Castle's key decoding refused it; the native provider's does not, so
   * NativeVerify makes Bouncy Castle's checks itself: no verifier for such a key.
   */
  @Test
  void anRsaKeyWithAPrimeOrEvenModulusGetsNoVerifier() throws Exception {
    java.math.BigInteger prime = java.math.BigInteger.probablePrime(2048, new java.security.SecureRandom());
    for (java.math.BigInteger modulus : new java.math.BigInteger[] {prime, prime.multiply(java.math.BigInteger.TWO)}) {
      SubjectPublicKeyInfo weak = new SubjectPublicKeyInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
          org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE),
          new org.bouncycastle.asn1.pkcs.RSAPublicKey(modulus, java.math.BigInteger.valueOf(65537)));
      org.junit.jupiter.api.Assertions.assertThrows(org.bouncycastle.operator.OperatorCreationException.class,
          () -> NativeVerify.of(weak));
    }
  }
}
