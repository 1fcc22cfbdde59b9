package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenSelectorTest {
  private static TokenDescription token(String label, String serial) {
    return new TokenDescription(7, label, serial, "m", "model", true, true, false, false, false);
  }

  @Test
  void rfc7512UrisAndPlainLabels() {
    assertEquals("kra-1", TokenSelector.parse("kra-1").toString());
    assertEquals("kra-1", TokenSelector.parse("pkcs11:token=kra-1;object=kra-key").toString());
    assertEquals("my card", TokenSelector.parse("pkcs11:token=my%20card").toString());
    assertEquals("serial 3f2a", TokenSelector.parse("pkcs11:serial=3f2a").toString());
    assertTrue(TokenSelector.parse("pkcs11:serial=3f2a").matches(token("x", "3f2a")));
    assertTrue(TokenSelector.parse("pkcs11:token=x?pin-source=file:/p").matches(token("x", "1")));
  }

  @Test
  void aUriWithoutTokenOrSerialIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TokenSelector.parse("pkcs11:object=ca"));
    assertEquals("PKCS#11 URI 'pkcs11:object=ca' names no token: add token=LABEL or serial=SERIAL", e.getMessage());
  }

  @Test
  void derPaddingIsTrimmedByTheLengthField() {
    byte[] der = {0x30, (byte) 0x81, 0x03, 1, 2, 3};
    byte[] padded = {0x30, (byte) 0x81, 0x03, 1, 2, 3, 0, 0};
    assertArrayEquals(der, Der.trimTrailingPadding(padded));
    assertThrows(IllegalArgumentException.class, () -> Der.trimTrailingPadding(new byte[] {0x30, 0x05, 1}));
  }
}
