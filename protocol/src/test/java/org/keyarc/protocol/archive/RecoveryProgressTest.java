package org.keyarc.protocol.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.junit.jupiter.api.Test;

class RecoveryProgressTest {
  private static final byte[] BLOB = {0x30, 0x03, 0x02, 0x01, 0x07};

  private static RecoveryProgress sample() {
    return new RecoveryProgress(BLOB, List.of(0, 2),
        List.of(new RecoveryProgress.Candidate(0, 1, new byte[] {1, 2, 3}),
            new RecoveryProgress.Candidate(3, 2, new byte[0])));
  }

  private static byte[] der(ASN1Encodable... items) throws Exception {
    return new DERSequence(items).getEncoded("DER");
  }

  @Test
  void roundTrip() {
    RecoveryProgress p = sample();
    RecoveryProgress back = RecoveryProgress.parse(p.encoded());
    assertNotNull(back);
    assertArrayEquals(BLOB, back.blob());
    assertEquals(List.of(0, 2), back.done());
    assertEquals(2, back.candidates().size());
    for (int i = 0; i < 2; i++) {
      RecoveryProgress.Candidate a = p.candidates().get(i);
      RecoveryProgress.Candidate b = back.candidates().get(i);
      assertEquals(a.envelope(), b.envelope());
      assertEquals(a.peeled(), b.peeled());
      assertArrayEquals(a.layers(), b.layers());
    }
    assertArrayEquals(p.encoded(), back.encoded(), "DER is canonical: re-encoding gives the same bytes");
  }

  @Test
  void emptyListsRoundTrip() {
    RecoveryProgress back = RecoveryProgress.parse(new RecoveryProgress(new byte[0], List.of(), List.of()).encoded());
    assertNotNull(back);
    assertEquals(0, back.blob().length);
    assertEquals(List.of(), back.done());
    assertEquals(List.of(), back.candidates());
  }

  @Test
  void aBlobOrGarbageIsNoProgress() throws Exception {
    assertNull(RecoveryProgress.parse(BLOB), "a DER SEQUENCE of another shape (a blob) is not a progress file");
    assertNull(RecoveryProgress.parse(new byte[0]));
    assertNull(RecoveryProgress.parse(null));
    assertNull(RecoveryProgress.parse("not DER at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    byte[] good = sample().encoded();
    assertNull(RecoveryProgress.parse(Arrays.copyOf(good, good.length - 1)), "truncated");
  }

  @Test
  void wrongVersionOrShapeIsNoProgress() throws Exception {
    DERSequence none = new DERSequence();
    DEROctetString blob = new DEROctetString(BLOB);
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(2), blob, none, none)), "version 2");
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(1), blob, none)), "three fields");
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(1), new ASN1Integer(5), none, none)),
        "blob not OCTET STRING");
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(1), blob, new DERSequence(blob), none)),
        "done not INTEGERs");
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(1), blob, none,
        new DERSequence(new DERSequence(new ASN1Encodable[] {new ASN1Integer(0), new ASN1Integer(1)})))),
        "candidate without layers");
    assertNull(RecoveryProgress.parse(der(new ASN1Integer(1), blob,
        new DERSequence(new ASN1Integer(new java.math.BigInteger("123456789012345678901234567890"))), none)),
        "index beyond int");
  }
}
