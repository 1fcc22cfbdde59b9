package org.keyarc.protocol.asn1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERUTF8String;
import org.junit.jupiter.api.Test;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/** The DER pre-scan: what the fuzz campaign sent (deep nesting, indefinite lengths) is refused in constant stack. */
class DerLimitsTest {
  private static byte[] nested(int depth) {
    // built from the inside out without recursion: 30 LEN 30 LEN ... 05 00
    byte[] inner = {0x05, 0x00};
    for (int i = 0; i < depth; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(0x30);
      int len = inner.length;
      if (len < 0x80) {
        out.write(len);
      } else if (len < 0x100) {
        out.write(0x81);
        out.write(len);
      } else if (len < 0x10000) {
        out.write(0x82);
        out.write(len >> 8);
        out.write(len);
      } else {
        out.write(0x83);
        out.write(len >> 16);
        out.write(len >> 8);
        out.write(len);
      }
      out.writeBytes(inner);
      inner = out.toByteArray();
    }
    return inner;
  }

  private static String refusal(byte[] der) {
    KeyarcException e = assertThrows(KeyarcException.class, () -> DerLimits.check(der, DerLimits.DEFAULT_MAX_DEPTH));
    assertEquals(ErrorCode.BAD_MESSAGE, e.code());
    return e.getMessage();
  }

  @Test
  void ordinaryStructuresPass() throws Exception {
    DerLimits.check(new DERSequence(new ASN1Encodable[] {new DERUTF8String("a"),
        new DERSequence(new DEROctetString(new byte[100]))}).getEncoded(), DerLimits.DEFAULT_MAX_DEPTH);
    DerLimits.check(nested(32), 32);
  }

  @Test
  void deepNestingIsRefusedWithoutRecursing() {
    assertTrue(refusal(nested(33)).contains("nesting deeper than 32"));
    assertTrue(refusal(nested(20_000)).contains("nesting deeper than 32"), "40 KB of SEQUENCEs: no stack overflow");
  }

  @Test
  void nestingHiddenInAnOctetStringCounts() throws Exception {
    byte[] deep = nested(40);
    byte[] wrapped = new DERSequence(new DEROctetString(deep)).getEncoded();
    assertTrue(refusal(wrapped).contains("nesting deeper than 32"));
  }

  @Test
  void berAndBrokenLengthsAreRefused() {
    assertTrue(refusal(new byte[] {0x30, (byte) 0x80, 0x05, 0x00, 0x00, 0x00}).contains("indefinite length"));
    assertTrue(refusal(new byte[] {0x30, 0x05, 0x05, 0x00}).contains("longer than what contains it"));
    assertTrue(refusal(new byte[] {0x30, 0x02, 0x05, 0x00, 0x05, 0x00}).contains("bytes after the end"));
    assertTrue(refusal(new byte[] {0x30, (byte) 0x85, 1, 1, 1, 1, 1}).contains("a length of 5 bytes"));
    assertTrue(refusal(new byte[] {0x30}).contains("cut off"));
    assertTrue(refusal(new byte[] {0x1f, (byte) 0x81, (byte) 0x81, (byte) 0x81, (byte) 0x81, 0x01, 0x00})
        .contains("tag number too long"));
  }

  @Test
  void aConstructedValueHoldsAtMost1024Elements() throws Exception {
    ASN1Encodable[] items = new ASN1Encodable[1024];
    java.util.Arrays.fill(items, new DERUTF8String("x"));
    DerLimits.check(new DERSequence(new DERSequence(items)).getEncoded(), DerLimits.DEFAULT_MAX_DEPTH);
    ASN1Encodable[] more = java.util.Arrays.copyOf(items, 83_333);
    java.util.Arrays.fill(more, new DERUTF8String("x"));
    String why = refusal(new DERSequence(new DERSequence(more)).getEncoded());
    assertTrue(why.contains("more than 1024 elements in the constructed value that ends at byte"), why);
  }

  @Test
  void elementBoundsHoldInsideOctetStringsAndForTheWholeMessage() throws Exception {
    ASN1Encodable[] many = new ASN1Encodable[2000];
    java.util.Arrays.fill(many, new DERUTF8String("x"));
    String inner = refusal(new DERSequence(new DEROctetString(new DERSequence(many))).getEncoded());
    assertTrue(inner.contains("more than 1024 elements"), "a SAN-like extnValue of 2,000 names: " + inner);
    ASN1Encodable[] row = java.util.Arrays.copyOf(many, 1000);
    ASN1Encodable[] rows = new ASN1Encodable[70];
    java.util.Arrays.fill(rows, new DERSequence(row));
    String all = refusal(new DERSequence(rows).getEncoded());
    assertTrue(all.contains("more than 65536 elements in all"), "70 siblings of 1,000 elements each: " + all);
  }
}
