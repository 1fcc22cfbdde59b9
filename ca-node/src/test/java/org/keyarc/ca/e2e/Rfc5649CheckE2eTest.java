package org.keyarc.ca.e2e;

import org.junit.jupiter.api.Test;
import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A configured "vendor code" for RFC 5649 that means something else: here CKM_AES_KEY_WRAP (0x2109, RFC 3394 without
 * padding), which SoftHSM2 offers. The node checks the CA token's mechanism against Bouncy Castle's RFC 5649 when it
 * opens the token and refuses to start, instead of writing archives the agents could never open.
 */
class Rfc5649CheckE2eTest {

  @Test
  void aMechanismThatIsNotRfc5649StopsTheNodeBeforeItArchivesAnything() {
    CaException e = assertThrows(CaException.class, () -> TestCa.start(cfg -> cfg.hsm.kwpMechanism = "0x2109").close());
    assertEquals(ErrorCode.MECHANISM_NOT_SUPPORTED, e.code());
    assertTrue(e.getMessage().contains("does not do RFC 5649 key wrap with mechanism 0x2109"), e.getMessage());
  }
}
