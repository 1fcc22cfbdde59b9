package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.Signature;
import java.time.Instant;
import java.util.Date;
import java.util.EnumMap;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * Every signature algorithm, through both PKCS#11 paths, signing certificates and CRLs built by Bouncy
 * Castle's builders; every signature is verified in software.
 */
class SigningTest {
  private static SoftHsmFixture hsm;
  private static HsmToken token;
  private static HsmSigners sun;
  private static final Map<KeySpec, HsmSession.GeneratedKeyPair> KEYS = new EnumMap<>(KeySpec.class);

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("ca");
    token = hsm.open("ca", 4);
    try (HsmSession s = token.session()) {
      for (KeySpec spec : new KeySpec[] {KeySpec.RSA_2048, KeySpec.EC_P256, KeySpec.EC_P384}) {
        HsmSession.GeneratedKeyPair kp = s.generateKeyPair(spec, KeyPolicy.CA_SIGNING, "ca-" + spec);
        KEYS.put(spec, kp);
        // SunPKCS11 lists a private key only next to a certificate with the same CKA_ID.
        X509CertificateHolder cert = TestCerts.selfSigned("ca " + spec, kp.publicKey(),
            HsmSigners.iaik(token).signer(kp.privateKey(), SignatureAlgorithm.defaultFor(spec)));
        s.storeCertificate(kp.privateKey(), TestCerts.toX509(cert));
      }
    }
    char[] pin = hsm.pin("ca");
    sun = HsmSigners.sunPkcs11(token, pin);
    HsmToken.wipe(pin);
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  private static HsmSession.GeneratedKeyPair keyFor(SignatureAlgorithm alg) {
    if (alg.keyType() == KeyHandle.KeyType.RSA) {
      return KEYS.get(KeySpec.RSA_2048);
    }
    return alg == SignatureAlgorithm.SHA256_WITH_ECDSA ? KEYS.get(KeySpec.EC_P256) : KEYS.get(KeySpec.EC_P384);
  }

  @ParameterizedTest
  @EnumSource(SignatureAlgorithm.class)
  void iaikPathSignsCertificatesThatVerifyInSoftware(SignatureAlgorithm alg) throws Exception {
    HsmSession.GeneratedKeyPair kp = keyFor(alg);
    X509CertificateHolder cert = TestCerts.selfSigned("iaik " + alg, kp.publicKey(),
        HsmSigners.iaik(token).signer(kp.privateKey(), alg));
    assertEquals(alg.algorithmIdentifier(), cert.getSignatureAlgorithm());
    assertTrue(TestCerts.verifies(cert, kp.publicKey()), alg + " via IAIK must verify");
  }

  @ParameterizedTest
  @EnumSource(SignatureAlgorithm.class)
  void sunPkcs11PathSignsCertificatesThatVerifyInSoftware(SignatureAlgorithm alg) throws Exception {
    HsmSession.GeneratedKeyPair kp = keyFor(alg);
    X509CertificateHolder cert = TestCerts.selfSigned("sun " + alg, kp.publicKey(), sun.signer(kp.privateKey(), alg));
    assertEquals(alg.algorithmIdentifier(), cert.getSignatureAlgorithm());
    assertTrue(TestCerts.verifies(cert, kp.publicKey()), alg + " via SunPKCS11 must verify");
  }

  @ParameterizedTest
  @EnumSource(value = HsmSigners.Path.class)
  void crlsAreSignedThroughEitherPath(HsmSigners.Path path) throws Exception {
    HsmSession.GeneratedKeyPair kp = KEYS.get(KeySpec.EC_P256);
    HsmSigners signers = path == HsmSigners.Path.IAIK ? HsmSigners.iaik(token) : sun;
    X509v2CRLBuilder crl = new X509v2CRLBuilder(new X500Name("CN=ca"), new Date());
    crl.addCRLEntry(BigInteger.valueOf(42), Date.from(Instant.now()), CRLReason.keyCompromise);
    X509CRLHolder holder = crl.build(signers.signer(kp.privateKey(), SignatureAlgorithm.SHA256_WITH_ECDSA));
    assertTrue(holder.isSignatureValid(new JcaContentVerifierProviderBuilder().build(kp.publicKey())));
    assertEquals(BigInteger.valueOf(42), holder.getRevokedCertificate(BigInteger.valueOf(42)).getSerialNumber());
  }

  @ParameterizedTest
  @EnumSource(value = SignatureAlgorithm.class, names = {"SHA256_WITH_ECDSA", "SHA256_WITH_RSA"})
  void aSignatureOverOtherDataDoesNotVerify(SignatureAlgorithm alg) throws Exception {
    HsmSession.GeneratedKeyPair kp = keyFor(alg);
    byte[] sig = token.call(s -> s.sign(kp.privateKey(), alg, "to be signed".getBytes()));
    Signature v = Signature.getInstance(alg.jcaName());
    v.initVerify(kp.publicKey());
    v.update("to be signed".getBytes());
    assertTrue(v.verify(sig));
    v.initVerify(kp.publicKey());
    v.update("something else".getBytes());
    assertFalse(v.verify(sig));
  }

  @ParameterizedTest
  @EnumSource(value = KeySpec.class, names = {"RSA_2048", "EC_P256"})
  void thePublicKeyReadFromTheTokenIsTheGeneratedOne(KeySpec spec) throws Exception {
    HsmSession.GeneratedKeyPair kp = KEYS.get(spec);
    byte[] fromToken = token.call(s -> s.publicKey(s.findKey(KeyHandle.KeyClass.PRIVATE, "ca-" + spec)).getEncoded());
    assertArrayEquals(kp.publicKey().getEncoded(), fromToken);
  }

  /**
   * A card that offers only CKM_RSA_PKCS: the DigestInfo signed there is the very signature hash-and-sign gives
   * (PKCS#1 v1.5 is deterministic), and it verifies with the JDK.
   */
  @Test
  void rsaSigningOverADigestInfoIsTheSameSignatureAsHashAndSign() throws Exception {
    HsmSession.GeneratedKeyPair kp = keyFor(SignatureAlgorithm.SHA256_WITH_RSA);
    byte[] data = "the agent's PKCS#10".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (SignatureAlgorithm alg : java.util.List.of(SignatureAlgorithm.SHA256_WITH_RSA,
        SignatureAlgorithm.SHA384_WITH_RSA, SignatureAlgorithm.SHA512_WITH_RSA)) {
      byte[] viaCard = token.call(s -> s.signDigestInfo(kp.privateKey(), alg, data));
      byte[] viaHashAndSign = token.call(s -> s.sign(kp.privateKey(), alg, data));
      assertArrayEquals(viaHashAndSign, viaCard, alg.jcaName());
      java.security.Signature v = java.security.Signature.getInstance(alg.jcaName());
      v.initVerify(kp.publicKey());
      v.update(data);
      assertTrue(v.verify(viaCard), alg.jcaName());
    }
  }
}
