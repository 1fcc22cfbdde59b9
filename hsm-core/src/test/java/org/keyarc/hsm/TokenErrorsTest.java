package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.SoftHsmFixture;

/** Absent tokens, wrong PINs, late and removed "cards": each answers with the error a user can act on. */
class TokenErrorsTest {

  @Test
  void anAbsentTokenIsNamed() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("present")) {
      HsmException e = assertThrows(HsmException.class,
          () -> hsm.module().openToken(TokenSelector.byLabel("kra-2-absent"), null, 1));
      assertEquals(HsmException.Reason.TOKEN_NOT_PRESENT, e.reason());
      assertEquals("token 'kra-2-absent' is not present", e.getMessage());
    }
  }

  @Test
  void aWrongPinIsRefusedWithTheTokenNamedAndTheRightPinStillWorks() throws Exception {
    // its own token: a wrong PIN here can never lock a token another test uses
    try (SoftHsmFixture hsm = SoftHsmFixture.create("pin")) {
      TokenSelector sel = TokenSelector.byLabel(hsm.label("pin"));
      HsmException e = assertThrows(HsmException.class,
          () -> hsm.module().openToken(sel, "not-the-pin".toCharArray(), 1));
      assertEquals(HsmException.Reason.PIN_INCORRECT, e.reason());
      assertEquals("PIN incorrect for token '" + hsm.label("pin") + "' (C_Login: CKR_PIN_INCORRECT 0x000000A0)",
          e.getMessage());
      assertEquals(0xA0, e.ckr());
      try (HsmToken token = hsm.open("pin", 1)) {
        assertTrue(token.loggedIn());
      }
    }
  }

  @Test
  void privateKeysNeedALogin() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("login")) {
      try (HsmToken in = hsm.open("login", 1)) {
        in.call(s -> s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.CA_SIGNING, "ca"));
      }
      try (HsmToken out = hsm.module().openToken(TokenSelector.byLabel(hsm.label("login")), null, 1)) {
        HsmException e = assertThrows(HsmException.class,
            () -> out.call(s -> s.findKey(KeyHandle.KeyClass.PRIVATE, "ca")));
        assertEquals(HsmException.Reason.KEY_NOT_FOUND, e.reason());
        assertTrue(e.getMessage().endsWith("(not logged in: private keys are hidden)"), e.getMessage());
        assertEquals("ca", out.call(s -> s.findKey(KeyHandle.KeyClass.PUBLIC, "ca")).label());
      }
    }
  }

  @Test
  void aSessionSpoiledByAFailureDoesNotLogTheTokenOut() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("spoil")) {
      try (HsmToken token = hsm.open("spoil", 1)) {
        KeyHandle signer = token.call(s -> s.generateKeyPair(KeySpec.EC_P256, KeyPolicy.CA_SIGNING, "k")).privateKey();
        KeyHandle rsa = token.call(s -> s.generateKeyPair(KeySpec.RSA_2048, KeyPolicy.EXCHANGE, "x")).privateKey();
        // RSA-OAEP decryption of garbage fails with CKR_GENERAL_ERROR in SoftHSM2: the pool closes that session
        HsmException e = org.junit.jupiter.api.Assertions.assertThrows(HsmException.class, () -> token.call(s ->
            s.decryptOaep(rsa, OaepHash.SHA1, new byte[256])));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("CKR_"), e.getMessage());
        // closing the only pool session must not log the application out: the private key still signs
        byte[] sig = token.call(s -> s.sign(signer, SignatureAlgorithm.SHA256_WITH_ECDSA, new byte[] {1, 2, 3}));
        org.junit.jupiter.api.Assertions.assertTrue(sig.length > 60);
      }
    }
  }

  @Test
  void aTokenCreatedLaterIsSeenOnlyAfterARescan() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("first")) {
      String late = hsm.addToken("late");
      HsmModule module = hsm.module();
      assertThrows(HsmException.class, () -> module.find(TokenSelector.byLabel(late)));
      module.rescan();
      assertEquals(late, module.find(TokenSelector.byLabel(late)).label());
    }
  }

  @Test
  void aRemovedCardIsNotPresentAfterARescanAndBackWhenReinserted() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("card")) {
      HsmModule module = hsm.module();
      TokenSelector card = TokenSelector.byLabel(hsm.label("card"));
      Path away = hsm.pullCard("card");
      try {
        module.rescan();
        HsmException e = assertThrows(HsmException.class, () -> module.find(card));
        assertEquals("token '" + hsm.label("card") + "' is not present", e.getMessage());
      } finally {
        hsm.reinsertCard(away);
      }
      module.rescan();
      assertEquals(hsm.label("card"), module.find(card).label());
    }
  }

  @Test
  void rescanIsRefusedWhileTokensAreOpen() throws Exception {
    try (SoftHsmFixture hsm = SoftHsmFixture.create("open")) {
      try (HsmToken token = hsm.open("open", 1)) {
        HsmException e = assertThrows(HsmException.class, () -> hsm.module().rescan());
        assertEquals(HsmException.Reason.MODULE_BUSY, e.reason());
        assertTrue(token.call(s -> s.random(4)).length == 4, "the open token still works");
      }
      hsm.module().rescan();
    }
  }

  @Test
  void aMissingLibraryIsNamed() {
    HsmException e = assertThrows(HsmException.class, () -> HsmModule.load(Path.of("/nonexistent/libsofthsm2.so")));
    assertEquals(HsmException.Reason.MODULE_LOAD_FAILED, e.reason());
    assertEquals("PKCS#11 library /nonexistent/libsofthsm2.so not found or not readable "
        + "(install the Debian package 'softhsm2')", e.getMessage());
  }
}
