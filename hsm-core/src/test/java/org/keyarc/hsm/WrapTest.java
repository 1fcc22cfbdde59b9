package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.keyarc.hsm.KeyHandle.KeyType;
import org.keyarc.hsm.testing.SoftHsmFixture;

/**
 * AES key wrap with padding (RFC 5649) and RSA-OAEP between Bouncy Castle in software and SoftHSM2, in
 * both directions: the shapes archival (client wraps, HSM unwraps) and recovery (HSM wraps, agent
 * unwraps) rely on. The software side here stands for the enrollment client and the recovery agent.
 */
class WrapTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static SoftHsmFixture hsm;
  private static HsmToken token;
  private static HsmSession.GeneratedKeyPair exchange;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("xchg");
    token = hsm.open("xchg", 2);
    exchange = token.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.EXCHANGE, "exchange"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  /** RFC 5649 section 6 vectors: our software oracle (BC's engine) is the real RFC 5649. */
  /** SoftHSM2 means RFC 5649 by CKM_AES_KEY_WRAP_PAD (0x210A) and has no 0x210B: keyarc takes 0x210A there only. */
  @Test
  void onSoftHsmTheRfc5649MechanismIs0x210A() {
    assertEquals(org.xipki.pkcs11.wrapper.PKCS11Constants.CKM_AES_KEY_WRAP_PAD, token.kwpMechanism());
    token.kwpMechanism(0x8000_0001L);
    try {
      assertEquals(0x8000_0001L, token.kwpMechanism(), "a configured vendor code comes first");
    } finally {
      token.kwpMechanism(0);
    }
  }

  @Test
  void bouncyCastleMatchesRfc5649Vectors() throws Exception {
    HexFormat hex = HexFormat.of();
    byte[] kek = hex.parseHex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    RFC5649WrapEngine e = new RFC5649WrapEngine(AESEngine.newInstance());
    e.init(true, new KeyParameter(kek));
    byte[] key20 = hex.parseHex("c37b7e6492584340bed12207808941155068f738");
    assertArrayEquals(hex.parseHex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"),
        e.wrap(key20, 0, key20.length));
    byte[] key7 = hex.parseHex("466f7250617369");
    assertArrayEquals(hex.parseHex("afbeb0f07dfbf5419200f2ccb50bb24f"), e.wrap(key7, 0, key7.length));
  }

  /**
   * An RSA PKCS#8 with the right modulus and public exponent but a random private exponent (and CRT values
   * of another key) unwraps into the token and passes the attribute comparison, but not the proof by
   * signature: archiving it would lose the key at recovery.
   */
  @Test
  void anRsaKeyWithAWrongPrivateExponentMatchesByAttributesButIsNotProven() throws Exception {
    KeyPair user = softwareKeyPair("RSA");
    RSAPrivateCrtKey real = (RSAPrivateCrtKey) user.getPrivate();
    RSAPrivateCrtKey other = (RSAPrivateCrtKey) softwareKeyPair("RSA").getPrivate();
    java.math.BigInteger randomD = new java.math.BigInteger(real.getModulus().bitLength() - 1, RANDOM);
    byte[] forged = new org.bouncycastle.asn1.pkcs.PrivateKeyInfo(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
        org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption, org.bouncycastle.asn1.DERNull.INSTANCE),
        new org.bouncycastle.asn1.pkcs.RSAPrivateKey(real.getModulus(), real.getPublicExponent(), randomD,
            other.getPrimeP(), other.getPrimeQ(), other.getPrimeExponentP(), other.getPrimeExponentQ(),
            other.getCrtCoefficient())).getEncoded("DER");
    byte[] transportKey = new byte[32];
    RANDOM.nextBytes(transportKey);
    try (HsmSession s = token.session()) {
      KeyHandle k = s.unwrapOaep(exchange.privateKey(), oaepEncrypt(exchange.publicKey(), transportKey),
          OaepHash.SHA1, KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle priv = s.unwrapAesKwp(k, kwp(true, transportKey, forged), KeyType.RSA, KeyPolicy.SESSION_UNWRAPPED,
          null);
      try {
        assertTrue(s.matchesPublicKey(priv, user.getPublic()), "modulus and exponent are the real ones");
        boolean proven;
        try {
          proven = s.provesPublicKey(priv, user.getPublic());
        } catch (HsmException e) {
          proven = false; // the token may also refuse to compute with the inconsistent key
        }
        assertFalse(proven, "but the key does not sign for the public key");
      } finally {
        s.destroy(priv);
        s.destroy(k);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA", "EC"})
  void aKeyWrappedByBouncyCastleUnwrapsInsideTheHsmAndMatchesItsPublicKey(String alg) throws Exception {
    KeyPair user = softwareKeyPair(alg);
    byte[] transportKey = new byte[32];
    RANDOM.nextBytes(transportKey);
    // the client: RSA-OAEP the transport key to the exchange key, RFC 5649 wrap the PKCS#8 with it
    byte[] encryptedTransportKey = oaepEncrypt(exchange.publicKey(), transportKey);
    byte[] wrappedUserKey = kwp(true, transportKey, user.getPrivate().getEncoded());

    try (HsmSession s = token.session()) {
      KeyHandle k = s.unwrapOaep(exchange.privateKey(), encryptedTransportKey, OaepHash.SHA1,
          KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle priv = s.unwrapAesKwp(k, wrappedUserKey, KeyType.valueOf(alg), KeyPolicy.SESSION_UNWRAPPED, null);
      try {
        assertTrue(s.matchesPublicKey(priv, user.getPublic()), "unwrapped key must match its public key");
        assertFalse(s.matchesPublicKey(priv, softwareKeyPair(alg).getPublic()), "and no other public key");
        assertTrue(s.provesPublicKey(priv, user.getPublic()), "and sign for it in the token");
        assertFalse(s.provesPublicKey(priv, softwareKeyPair(alg).getPublic()), "for no other public key");
        KeyAttributes a = s.attributes(priv);
        assertEquals(false, a.token());
        assertEquals(true, a.sensitive());
      } finally {
        s.destroy(priv);
        s.destroy(k);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA", "EC"})
  void aKeyWrappedInsideTheHsmUnwrapsWithBouncyCastle(String alg) throws Exception {
    KeyPair user = softwareKeyPair(alg);
    KeyPair agent = softwareKeyPair("RSA");
    byte[] transportKey = new byte[32];
    RANDOM.nextBytes(transportKey);
    byte[] wrappedByHsm;
    byte[] transportForAgent;
    try (HsmSession s = token.session()) {
      KeyHandle k = s.unwrapOaep(exchange.privateKey(), oaepEncrypt(exchange.publicKey(), transportKey),
          OaepHash.SHA1, KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle priv = s.unwrapAesKwp(k, kwp(true, transportKey, user.getPrivate().getEncoded()),
          KeyType.valueOf(alg), KeyPolicy.SESSION_UNWRAPPED, null);
      // re-wrap inside the HSM: a fresh AES key wraps the private key, RSA-OAEP wraps it to the agent
      KeyHandle fresh = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle agentPub = s.importPublicKey(agent.getPublic(), null);
      wrappedByHsm = s.wrapAesKwp(fresh, priv);
      transportForAgent = s.wrapOaep(agentPub, fresh, OaepHash.SHA1);
      for (KeyHandle h : new KeyHandle[] {k, priv, fresh, agentPub}) {
        s.destroy(h);
      }
    }
    // the agent, in software
    byte[] freshKey = oaepDecrypt(agent.getPrivate(), transportForAgent);
    assertEquals(32, freshKey.length);
    byte[] padded = kwp(false, freshKey, wrappedByHsm);
    byte[] pkcs8 = Der.trimTrailingPadding(padded);
    assertTrue(padded.length - pkcs8.length < 8, "SoftHSM2 pads to a multiple of 8 at most");
    PrivateKey recovered = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    assertTrue(signsFor(recovered, user.getPublic(), alg), "recovered key must pair with the user's public key");
    if (alg.equals("RSA")) {
      assertEquals(((RSAPrivateCrtKey) user.getPrivate()).getPrivateExponent(),
          ((RSAPrivateCrtKey) recovered).getPrivateExponent());
    }
  }

  @Test
  void oaepWrapAndUnwrapOfAnAesKeyRoundTripInsideTheHsm() throws Exception {
    try (HsmSession s = token.session()) {
      KeyHandle k = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle pub = s.publicKeyObjectOf(exchange.privateKey());
      byte[] wrapped = s.wrapOaep(pub, k, OaepHash.SHA1);
      assertEquals(256, wrapped.length);
      KeyHandle back = s.unwrapOaep(exchange.privateKey(), wrapped, OaepHash.SHA1, KeyPolicy.SESSION_TRANSPORT, null);
      // the two handles hold the same key: what one wraps, the other's wrap output equals
      KeyPair user = softwareKeyPair("EC");
      byte[] t = new byte[32];
      RANDOM.nextBytes(t);
      KeyHandle tk = s.unwrapOaep(exchange.privateKey(), oaepEncrypt(exchange.publicKey(), t), OaepHash.SHA1,
          KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle priv = s.unwrapAesKwp(tk, kwp(true, t, user.getPrivate().getEncoded()), KeyType.EC,
          KeyPolicy.SESSION_UNWRAPPED, null);
      assertArrayEquals(s.wrapAesKwp(k, priv), s.wrapAesKwp(back, priv));
      for (KeyHandle h : new KeyHandle[] {k, back, tk, priv}) {
        s.destroy(h);
      }
    }
  }

  @Test
  void aWrongTransportKeyIsRefusedAndLeavesNoObject() throws Exception {
    KeyPair user = softwareKeyPair("RSA");
    byte[] right = new byte[32];
    byte[] wrong = new byte[32];
    RANDOM.nextBytes(right);
    RANDOM.nextBytes(wrong);
    try (HsmSession s = token.session()) {
      int before = s.listKeys().size();
      KeyHandle k = s.unwrapOaep(exchange.privateKey(), oaepEncrypt(exchange.publicKey(), wrong), OaepHash.SHA1,
          KeyPolicy.SESSION_TRANSPORT, null);
      HsmException e = assertThrows(HsmException.class, () -> s.unwrapAesKwp(k,
          kwp(true, right, user.getPrivate().getEncoded()), KeyType.RSA, KeyPolicy.SESSION_UNWRAPPED, null));
      assertEquals(HsmException.Reason.BAD_INPUT, e.reason(), e.getMessage());
      s.destroy(k);
      assertEquals(before, s.listKeys().size());
    }
  }

  @Test
  void oaepWithSha256IsRefusedOnSoftHsmWithAClearMessage() throws Exception {
    try (HsmSession s = token.session()) {
      KeyHandle k = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, null);
      KeyHandle pub = s.publicKeyObjectOf(exchange.privateKey());
      HsmException e = assertThrows(HsmException.class, () -> s.wrapOaep(pub, k, OaepHash.SHA256));
      assertEquals(HsmException.Reason.MECHANISM_NOT_SUPPORTED, e.reason());
      assertTrue(e.getMessage().startsWith("mechanism RSA-OAEP with SHA-256 is not supported by this token"
          .replace("this token", "token '" + token.label() + "'") + "; set oaep-hash to SHA-1"), e.getMessage());
      s.destroy(k);
    }
  }

  @Test
  void theProbeReportsWhatSoftHsmReallyDoes() throws Exception {
    TokenCapabilities c = token.call(HsmSession::probeCapabilities);
    assertEquals(new TokenCapabilities(true, false, true, false), c);
    assertEquals(OaepHash.SHA1, c.bestOaepHash());
  }

  // ------------------------------------------------------------ the software side

  static KeyPair softwareKeyPair(String alg) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
    if (alg.equals("EC")) {
      g.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      g.initialize(2048);
    }
    return g.generateKeyPair();
  }

  static byte[] oaepEncrypt(PublicKey key, byte[] data) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.ENCRYPT_MODE, key, new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1,
        PSource.PSpecified.DEFAULT));
    return c.doFinal(data);
  }

  static byte[] oaepDecrypt(PrivateKey key, byte[] data) throws Exception {
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.DECRYPT_MODE, key, new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1,
        PSource.PSpecified.DEFAULT));
    return c.doFinal(data);
  }

  static byte[] kwp(boolean wrap, byte[] kek, byte[] data) throws Exception {
    RFC5649WrapEngine e = new RFC5649WrapEngine(AESEngine.newInstance());
    e.init(wrap, new KeyParameter(new SecretKeySpec(kek, "AES").getEncoded()));
    return wrap ? e.wrap(data, 0, data.length) : e.unwrap(data, 0, data.length);
  }

  static boolean signsFor(PrivateKey priv, PublicKey pub, String alg) throws Exception {
    String name = alg.equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    Signature s = Signature.getInstance(name);
    s.initSign(priv);
    s.update(new byte[] {1, 2, 3});
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(name);
    v.initVerify(pub);
    v.update(new byte[] {1, 2, 3});
    return v.verify(sig);
  }
}
