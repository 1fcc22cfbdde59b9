package org.keyarc.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.cmp.PKIFailureInfo;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {

  @Test
  void numbersAreUniqueAndClearOfTheGenericExitCodes() {
    Set<Integer> seen = new HashSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      assertTrue(c.number() > 2 && c.number() < 126, c + " must not collide with 0/1/2 or shell codes");
      assertTrue(seen.add(c.number()), c + " reuses number " + c.number());
      assertEquals(c, ErrorCode.ofNumber(c.number()));
    }
  }

  @Test
  void theReleasedNumbersStayPut() {
    assertEquals(10, ErrorCode.TOKEN_NOT_PRESENT.number());
    assertEquals(11, ErrorCode.PIN_INCORRECT.number());
    assertEquals(32, ErrorCode.BAD_POP.number());
    assertEquals(33, ErrorCode.UNKNOWN_TEMPLATE.number());
  }

  @Test
  void eachCodeMapsToOneCmpFailureBit() {
    for (ErrorCode c : ErrorCode.values()) {
      int bits = c.failureInfo();
      assertTrue(bits != 0 && (bits & (bits - 1)) == 0, c + " must map to exactly one PKIFailureInfo bit");
      new PKIFailureInfo(bits); // encodable as the DER BIT STRING CMP sends
    }
    assertEquals(PKIFailureInfo.badPOP, ErrorCode.BAD_POP.failureInfo());
    assertThrows(IllegalArgumentException.class, () -> ErrorCode.ofNumber(1));
  }
}
