package org.keyarc.ca;

import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1Integer;
import org.junit.jupiter.api.Test;
import org.keyarc.ca.keys.SerialNumbers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SerialNumbersTest {

  @Test
  void tenThousandSerialsArePositiveBelowTheBoundUniqueAndRandom() throws Exception {
    SerialNumbers serials = new SerialNumbers();
    Set<BigInteger> seen = new HashSet<>();
    int[] ones = new int[159];
    int n = 10_000;
    for (int i = 0; i < n; i++) {
      BigInteger s = serials.next();
      assertTrue(s.signum() > 0, "positive");
      assertTrue(s.compareTo(SerialNumbers.BOUND) < 0, "below 2^159");
      assertTrue(new ASN1Integer(s).getEncoded().length <= 22, "DER INTEGER content of at most 20 octets");
      assertTrue(seen.add(s), "unique");
      for (int b = 0; b < 159; b++) {
        if (s.testBit(b)) {
          ones[b]++;
        }
      }
    }
    // every one of the 159 bits varies like a fair coin: far more than the 64 random bits required
    int randomBits = 0;
    for (int b = 0; b < 159; b++) {
      if (Math.abs(ones[b] - n / 2) < 300) { // 6 standard deviations of a fair coin over 10,000 draws
        randomBits++;
      }
    }
    assertEquals(159, randomBits);
  }
}
