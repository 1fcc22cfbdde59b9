package org.keyarc.hsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.junit.jupiter.api.Test;

/**
 * CKA_EC_POINT comes DER-wrapped or bare. A bare P-256 point whose X starts with 0x3F also parses as a
 * DER OCTET STRING of 63 bytes; reading it as one gave "Invalid EC key" for 1 key in 256.
 */
class EcPointTest {
  @Test
  void barePointThatLooksLikeDerIsKept() throws Exception {
    byte[] bare = new byte[65];
    bare[0] = 0x04;
    bare[1] = 0x3F; // 04 3F ... is also a well-formed OCTET STRING of 63 bytes
    for (int i = 2; i < bare.length; i++) {
      bare[i] = (byte) i;
    }
    assertArrayEquals(bare, HsmSession.unwrapEcPoint(bare, SECObjectIdentifiers.secp256r1));
  }

  @Test
  void derWrappedPointIsUnwrapped() throws Exception {
    byte[] bare = new byte[97];
    bare[0] = 0x04;
    bare[1] = 0x3F;
    byte[] der = new DEROctetString(bare).getEncoded();
    assertArrayEquals(bare, HsmSession.unwrapEcPoint(der, SECObjectIdentifiers.secp384r1));
    assertArrayEquals(bare, HsmSession.unwrapEcPoint(bare, SECObjectIdentifiers.secp384r1));
  }
}
