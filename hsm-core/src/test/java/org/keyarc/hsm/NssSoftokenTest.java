package org.keyarc.hsm;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.keyarc.hsm.testing.NssDb;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NSS softoken, a module nobody here wrote, as a CA token: it needs C_Initialize arguments; by 0x210A it means
 * PKCS#7 padding and RFC 3394, so RFC 5649 is 0x210B there; its C_WrapKey size answer for 0x210B is too small (the
 * wrap is retried with a larger buffer); EC private keys do not unwrap; RSA-OAEP does SHA-256.
 */
class NssSoftokenTest {

  @Test
  void nssSoftokenIsACaTokenForRsaArchivalWithTheStandardKwpMechanism() throws Exception {
    NssDb nss = NssDb.create();
    try (HsmModule m = HsmModule.load(NssDb.LIBRARY, nss.initArgs());
         HsmToken token = m.openToken(TokenSelector.parse(NssDb.TOKEN), PinSource.fromFile(nss.pinFile()), 2);
         HsmSession s = token.session()) {
      assertEquals(PKCS11Constants.CKM_AES_KEY_WRAP_KWP, token.kwpMechanism(), "0x210B, not NSS's 0x210A");
      Map<String, Boolean> steps = s.probe().stream()
          .collect(Collectors.toMap(HsmSession.ProbeStep::name, st -> Boolean.TRUE.equals(st.works())));
      // Bouncy Castle's RFC 5649 on both sides of the token's: wrapped by BC, unwrapped inside, wrapped again
      // (through the retry with a larger buffer), unwrapped by BC to the same key
      assertTrue(steps.get(HsmSession.ProbeStep.KWP_WRAP), steps.toString());
      assertEquals(false, steps.get(HsmSession.ProbeStep.KWP_WRAP_EC), "NSS 3.87: CKR_TEMPLATE_INCOMPLETE");
      assertTrue(steps.get(HsmSession.ProbeStep.OAEP_SHA256_UNWRAP), steps.toString());
      for (String step : List.of(HsmSession.ProbeStep.RSA_PAIR, HsmSession.ProbeStep.EC_PAIR,
          HsmSession.ProbeStep.AES_KEY, HsmSession.ProbeStep.RSA_SIGNING, HsmSession.ProbeStep.SIGN_OFF)) {
        assertTrue(steps.get(step), step + ": " + steps);
      }
    }
  }

  /** NSS keeps no CKO_DATA token objects: the value is held in a private generic secret, and reads back the same. */
  @Test
  void dataObjectsAreKeptThoughNssRefusesCkoData() throws Exception {
    NssDb nss = NssDb.create();
    byte[] value = new byte[32];
    new java.security.SecureRandom().nextBytes(value);
    try (HsmModule m = HsmModule.load(NssDb.LIBRARY, nss.initArgs());
         HsmToken token = m.openToken(TokenSelector.parse(NssDb.TOKEN), PinSource.fromFile(nss.pinFile()), 2)) {
      token.call(s -> {
        s.writeData("keyarc-test", new byte[0]);
        return null;
      });
      List<byte[]> empty = token.call(s -> s.readData("keyarc-test"));
      assertEquals(1, empty.size());
      assertEquals(0, empty.get(0).length);
      token.call(s -> {
        s.writeData("keyarc-test", value);
        return null;
      });
      List<byte[]> back = token.call(s -> s.readData("keyarc-test"));
      assertEquals(1, back.size(), "the old value is gone");
      org.junit.jupiter.api.Assertions.assertArrayEquals(value, back.get(0));
    }
    try (HsmModule m = HsmModule.load(NssDb.LIBRARY, nss.initArgs());
         HsmToken token = m.openToken(TokenSelector.parse(NssDb.TOKEN), PinSource.fromFile(nss.pinFile()), 2)) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(value, token.call(s -> s.readData("keyarc-test")).get(0),
          "kept on the token");
    }
  }

  /**
   * The attack on that fallback: NSS keeps CKA_ID in its database file in the clear and unauthenticated, so someone
   * with the files but not the PIN edits the record (here with Python's sqlite3, as an outside tool would). The
   * CMAC under the token's own key, checked on every read, refuses it.
   */
  @Test
  void aRecordEditedInNssFilesIsRefused() throws Exception {
    NssDb nss = NssDb.create();
    try (HsmModule m = HsmModule.load(NssDb.LIBRARY, nss.initArgs());
         HsmToken token = m.openToken(TokenSelector.parse(NssDb.TOKEN), PinSource.fromFile(nss.pinFile()), 2)) {
      token.call(s -> {
        s.writeData("keyarc-anchor-test", new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        return null;
      });
    }
    String edit = String.join("\n", "import sqlite3, sys", "c = sqlite3.connect(sys.argv[1])", "n = 0",
        "for rid, a3, a102 in c.execute('select id, a3, a102 from nssPrivate').fetchall():",
        "    if a3 == b'keyarc-data:keyarc-anchor-test':",
        "        v = bytearray(a102); v[-1] ^= 1",
        "        c.execute('update nssPrivate set a102 = ? where id = ?', (bytes(v), rid)); n += 1",
        "c.commit()", "print(n)");
    Process p = new ProcessBuilder("python3", "-c", edit, nss.databaseFolder().resolve("key4.db").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertEquals(0, p.waitFor(), out);
    assertEquals("1", out, "the record was found in the file and edited");
    try (HsmModule m = HsmModule.load(NssDb.LIBRARY, nss.initArgs());
         HsmToken token = m.openToken(TokenSelector.parse(NssDb.TOKEN), PinSource.fromFile(nss.pinFile()), 2)) {
      HsmException e = org.junit.jupiter.api.Assertions.assertThrows(HsmException.class,
          () -> token.call(s -> s.readData("keyarc-anchor-test")));
      assertTrue(e.getMessage().contains("its MAC does not verify"), e.getMessage());
    }
  }

  @Test
  void withoutItsInitArgumentsNssSaysWhy() {
    HsmException e = org.junit.jupiter.api.Assertions.assertThrows(HsmException.class,
        () -> HsmModule.load(NssDb.LIBRARY).close());
    assertEquals(HsmException.Reason.MODULE_LOAD_FAILED, e.reason());
    assertTrue(e.getMessage().contains("cannot initialise PKCS#11 library " + NssDb.LIBRARY), e.getMessage());
  }
}
