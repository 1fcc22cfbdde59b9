package org.keyarc.hsm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.PublicKey;
import java.security.Signature;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.KeyHandle.KeyClass;
import org.keyarc.hsm.testing.SoftHsmFixture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A key with CKA_ALWAYS_AUTHENTICATE, as a PIV card's key with PIN policy "always": made here with OpenSC's
 * pkcs11-tool --always-auth on SoftHSM2, which then refuses each signature and decryption that has no
 * context-specific login. A token opened for a card (allowContextLogin) logs in for each use; one opened without a
 * PIN kept (the CA node's) does not, and the card says why.
 */
class ContextLoginTest {
  static SoftHsmFixture hsm;

  @BeforeAll
  static void setUp() throws Exception {
    hsm = SoftHsmFixture.create("piv");
    ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", SoftHsmFixture.library().toString(),
        "--token-label", hsm.label("piv"), "--login", "--pin", "env:CARD_PIN", "--keypairgen", "--key-type",
        "rsa:2048", "--id", "02", "--always-auth", "--usage-sign", "--usage-decrypt").redirectErrorStream(true);
    pb.environment().put("CARD_PIN", Files.readString(hsm.pinFile("piv")).trim());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor() == 0, out);
  }

  @AfterAll
  static void tearDown() throws Exception {
    hsm.close();
  }

  @Test
  void aKeyThatAlwaysAuthenticatesSignsAndDecryptsWithAContextLogin() throws Exception {
    byte[] data = "recovery agent".getBytes(StandardCharsets.US_ASCII);
    try (HsmToken card = hsm.open("piv", 1)) {
      KeyHandle key = card.call(s -> s.findKeyById(KeyClass.PRIVATE, new byte[] {2}));
      HsmException refused = assertThrows(HsmException.class,
          () -> card.call(s -> s.sign(key, SignatureAlgorithm.SHA256_WITH_RSA, data)));
      assertTrue(refused.getMessage().contains("CKR_USER_NOT_LOGGED_IN"), refused.getMessage());

      card.allowContextLogin(Files.readString(hsm.pinFile("piv")).trim().toCharArray());
      PublicKey pub = card.call(s -> s.publicKey(key));
      byte[] sig = card.call(s -> s.sign(key, SignatureAlgorithm.SHA256_WITH_RSA, data));
      Signature v = Signature.getInstance("SHA256withRSA");
      v.initVerify(pub);
      v.update(data);
      assertTrue(v.verify(sig));
      byte[] secret = new byte[32];
      new java.security.SecureRandom().nextBytes(secret);
      byte[] encrypted = oaep(pub, "SHA-1", secret);
      assertArrayEquals(secret, card.call(s -> s.decryptOaep(key, OaepHash.SHA1, encrypted)));
    }
  }

  /**
   * The explicit fallback for a card whose OAEP lacks a hash (SoftHSM2 has no OAEP with SHA-256): CKM_RSA_X_509 on
   * the card and Bouncy Castle's OAEP decoding here. Without --raw-rsa-oaep the card's refusal stands; with it the
   * secret comes back; a ciphertext for another key is refused, not decoded into something.
   */
  @Test
  void oaepWithSha256DecryptsAsRawRsaOnlyWhenAllowed() throws Exception {
    try (HsmToken card = hsm.open("piv", 1)) {
      card.allowContextLogin(Files.readString(hsm.pinFile("piv")).trim().toCharArray());
      KeyHandle key = card.call(s -> s.findKeyById(KeyClass.PRIVATE, new byte[] {2}));
      PublicKey pub = card.call(s -> s.publicKey(key));
      byte[] secret = new byte[32];
      new java.security.SecureRandom().nextBytes(secret);
      byte[] encrypted = oaep(pub, "SHA-256", secret);
      HsmException refused = assertThrows(HsmException.class,
          () -> card.call(s -> s.decryptOaep(key, OaepHash.SHA256, encrypted)));
      assertTrue(refused.getMessage().contains("RSA-OAEP with SHA-256 is not supported by token"), refused.getMessage());

      card.allowRawRsaOaep(true);
      assertArrayEquals(secret, card.call(s -> s.decryptOaep(key, OaepHash.SHA256, encrypted)));
      java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      byte[] forAnother = oaep(g.generateKeyPair().getPublic(), "SHA-256", secret);
      HsmException wrong = assertThrows(HsmException.class,
          () -> card.call(s -> s.decryptOaep(key, OaepHash.SHA256, forAnother)));
      assertTrue(wrong.getMessage().contains("RSA-OAEP decoding failed"), wrong.getMessage());
    }
  }

  private static byte[] oaep(PublicKey pub, String hash, byte[] secret) throws Exception {
    javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(javax.crypto.Cipher.ENCRYPT_MODE, pub, new javax.crypto.spec.OAEPParameterSpec(hash, "MGF1",
        new java.security.spec.MGF1ParameterSpec(hash), javax.crypto.spec.PSource.PSpecified.DEFAULT));
    return c.doFinal(secret);
  }
}
