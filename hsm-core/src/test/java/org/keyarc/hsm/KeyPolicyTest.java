package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** Invariant 1: keys stay in their tokens. The attributes the token reports, and a wrap attempt, prove it. */
class KeyPolicyTest {
  private static SoftHsmFixture hsm;
  private static HsmToken token;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("keys");
    token = hsm.open("keys", 2);
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  @ParameterizedTest
  @EnumSource(value = KeySpec.class, names = {"RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384"})
  void caKeysAreSensitiveNonExtractableAndSignOnly(KeySpec spec) throws Exception {
    try (HsmSession s = token.session()) {
      HsmSession.GeneratedKeyPair kp = s.generateKeyPair(spec, KeyPolicy.CA_SIGNING, "ca-" + spec);
      KeyAttributes a = s.attributes(kp.privateKey());
      assertEquals(true, a.token());
      assertEquals(true, a.privateObject());
      assertEquals(true, a.sensitive());
      assertEquals(false, a.extractable());
      assertEquals(true, a.alwaysSensitive());
      assertEquals(true, a.neverExtractable());
      assertEquals(true, a.sign());
      assertEquals(false, a.decrypt());
      assertEquals(false, a.unwrap());
      if (spec.type() == KeyHandle.KeyType.RSA) {
        assertEquals(spec.bits(), ((RSAPublicKey) kp.publicKey()).getModulus().bitLength());
      } else {
        assertEquals(spec.bits(), ((ECPublicKey) kp.publicKey()).getParams().getCurve().getField().getFieldSize());
      }
      assertWrapRefused(s, kp.privateKey());
    }
  }

  @Test
  void exchangeKeysAreSensitiveNonExtractableAndUnwrapOnly() throws Exception {
    try (HsmSession s = token.session()) {
      HsmSession.GeneratedKeyPair kp = s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.EXCHANGE, "xchg");
      KeyAttributes a = s.attributes(kp.privateKey());
      assertEquals(true, a.sensitive());
      assertEquals(false, a.extractable());
      assertEquals(false, a.sign());
      assertEquals(false, a.decrypt(), "unwrap only: a recorded request cannot be decrypted into the host");
      assertEquals(true, a.unwrap());
      assertWrapRefused(s, kp.privateKey());
      HsmException e = assertThrows(HsmException.class,
          () -> s.sign(kp.privateKey(), SignatureAlgorithm.SHA256_WITH_RSA, new byte[] {1}));
      assertEquals(HsmException.Reason.KEY_POLICY, e.reason(), e.getMessage());
      HsmException d = assertThrows(HsmException.class,
          () -> s.decryptOaep(kp.privateKey(), OaepHash.SHA1, new byte[256]));
      assertEquals(HsmException.Reason.KEY_POLICY, d.reason(), d.getMessage());
      KeyAttributes soft = s.attributes(s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.EXCHANGE_SOFTWARE_UNWRAP,
          "xchg-soft").privateKey());
      assertEquals(true, soft.decrypt(), "only the software-unwrap switch makes a decrypting exchange key");
    }
  }

  @Test
  void perOperationKeysAreSessionObjects() throws Exception {
    try (HsmSession s = token.session()) {
      KeyHandle k = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, "k");
      KeyAttributes a = s.attributes(k);
      assertTrue(k.sessionObject());
      assertEquals(false, a.token());
      assertEquals(true, a.sensitive());
      assertEquals(true, a.wrap());
      s.destroy(k);
      HsmException gone = assertThrows(HsmException.class, () -> s.attributes(k));
      assertEquals(HsmException.Reason.DEVICE_ERROR, gone.reason());
      assertTrue(gone.getMessage().contains("CKR_OBJECT_HANDLE_INVALID"), gone.getMessage());
    }
  }

  @Test
  void keysAreFoundByLabelAndIdAndListed() throws Exception {
    try (HsmSession s = token.session()) {
      HsmSession.GeneratedKeyPair kp = s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.AUDIT_SIGNING, "audit");
      KeyHandle byLabel = s.findKey(KeyHandle.KeyClass.PRIVATE, "audit");
      KeyHandle byId = s.findKeyById(KeyHandle.KeyClass.PRIVATE, kp.privateKey().id());
      assertEquals(kp.privateKey().objectHandle(), byLabel.objectHandle());
      assertEquals(kp.privateKey().objectHandle(), byId.objectHandle());
      assertEquals(16, byLabel.id().length);
      assertTrue(s.listKeys().stream().anyMatch(k -> k.label().equals("audit") && k.keyClass() == KeyHandle.KeyClass.PUBLIC));
      HsmException e = assertThrows(HsmException.class, () -> s.findKey(KeyHandle.KeyClass.PRIVATE, "no-such-key"));
      assertEquals(HsmException.Reason.KEY_NOT_FOUND, e.reason());
      assertTrue(e.getMessage().contains("no private key labelled 'no-such-key' on token '" + token.label() + "'"),
          e.getMessage());
    }
  }

  @Test
  void handlesPrintMetadataOnly() throws Exception {
    KeyHandle k = token.call(s -> s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, "t"));
    String text = k.toString();
    assertTrue(text.startsWith("AES secret key 't'"), text);
    assertTrue(text.contains("session object"), text);
  }

  private static void assertWrapRefused(HsmSession s, KeyHandle privateKey) throws HsmException {
    KeyHandle kek = s.generateSecretKey(KeySpec.AES_256, KeyPolicy.SESSION_TRANSPORT, "kek");
    try {
      HsmException e = assertThrows(HsmException.class, () -> s.wrapAesKwp(kek, privateKey));
      assertEquals(HsmException.Reason.KEY_POLICY, e.reason(), e.getMessage());
      assertTrue(e.getMessage().contains("CKR_KEY_UNEXTRACTABLE"), e.getMessage());
      assertFalse(e.getMessage().isBlank());
    } finally {
      s.destroy(kek);
    }
  }
}
