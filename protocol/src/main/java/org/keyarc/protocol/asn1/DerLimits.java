package org.keyarc.protocol.asn1;

import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcException;

/**
 * A cheap, iterative pre-scan of untrusted DER before Bouncy Castle parses it (Bouncy Castle's parser recurses,
 * so 40 KB of nested SEQUENCEs overflows a worker's stack): one TLV spanning the whole input, definite lengths
 * only (BER's indefinite form is refused), every element inside its parent, nesting at most {@code maxDepth}
 * deep, at most {@link #MAX_ELEMENTS} elements in any one constructed value and {@link #MAX_TOTAL_ELEMENTS} in all (a genm of 83,333 items cost 10 ms
 * of parsing before it could be refused). Primitive OCTET STRING and BIT STRING values that are themselves one DER element (CMP and CRMF wrap
 * structures in them) are scanned too, their depth counted on top of their parent's. Constant stack; linear
 * time.
 */
public final class DerLimits {
  /** The nesting keyarc accepts: a CMP message with a certificate inside an extraCerts is ~12 deep. */
  public static final int DEFAULT_MAX_DEPTH = 32;
  /**
   * Elements one SEQUENCE, SET or other constructed value may hold: keyarc's largest lists are a batch of 64
   * certificate requests, 16 names, a certificate's extensions.
   */
  public static final int MAX_ELEMENTS = 1024;
  /** Elements one message may hold in all (a batch of 64 archival requests has about 20,000). */
  public static final int MAX_TOTAL_ELEMENTS = 65_536;

  private DerLimits() {}

  /** Refuses {@code der} with BAD_MESSAGE unless it is one well-formed DER element nested at most maxDepth deep. */
  public static void check(byte[] der, int maxDepth) throws KeyarcException {
    String problem = scan(der, 0, der.length, 0, maxDepth, new int[1]);
    if (problem != null) {
      throw new KeyarcException(ErrorCode.BAD_MESSAGE, "the request is not acceptable DER: " + problem);
    }
  }

  /** Why {@code der[from..to)} is not one acceptable element at depth {@code base}, or null. */
  private static String scan(byte[] der, int from, int to, int base, int maxDepth, int[] total) {
    int[] ends = new int[maxDepth + 1];
    int[] counts = new int[maxDepth + 1];
    int depth = 0;
    int pos = from;
    ends[0] = to;
    boolean first = true;
    while (pos < to || depth > 0) {
      while (depth > 0 && pos == ends[depth]) {
        depth--;
      }
      if (pos >= to) {
        break;
      }
      if (!first && depth == 0) {
        return "bytes after the end of the outermost element";
      }
      first = false;
      int start = pos;
      if (++total[0] > MAX_TOTAL_ELEMENTS) {
        return "more than " + MAX_TOTAL_ELEMENTS + " elements in all";
      }
      if (depth > 0 && ++counts[depth] > MAX_ELEMENTS) {
        return "more than " + MAX_ELEMENTS + " elements in the constructed value that ends at byte " + ends[depth];
      }
      int tag = der[pos++] & 0xff;
      if ((tag & 0x1f) == 0x1f) { // high tag number: base-128, at most 4 bytes
        int n = 0;
        while (true) {
          if (pos >= ends[depth] || ++n > 4) {
            return "a tag number too long at byte " + start;
          }
          if ((der[pos++] & 0x80) == 0) {
            break;
          }
        }
      }
      if (pos >= ends[depth]) {
        return "an element cut off at byte " + start;
      }
      int first8 = der[pos++] & 0xff;
      long len;
      if (first8 < 0x80) {
        len = first8;
      } else if (first8 == 0x80) {
        return "an indefinite length (BER) at byte " + start;
      } else {
        int n = first8 & 0x7f;
        if (n > 4) {
          return "a length of " + n + " bytes at byte " + start;
        }
        len = 0;
        for (int i = 0; i < n; i++) {
          if (pos >= ends[depth]) {
            return "an element cut off at byte " + start;
          }
          len = (len << 8) | (der[pos++] & 0xff);
        }
      }
      if (len > ends[depth] - pos) {
        return "an element at byte " + start + " longer than what contains it";
      }
      int end = (int) (pos + len);
      if ((tag & 0x20) != 0) { // constructed: go in
        if (base + depth + 1 > maxDepth) {
          return "nesting deeper than " + maxDepth;
        }
        depth++;
        ends[depth] = end;
        counts[depth] = 0;
        continue;
      }
      if ((tag == 0x04 || tag == 0x03) && len > 2) { // OCTET STRING, BIT STRING: maybe DER inside
        int inner = tag == 0x03 ? pos + 1 : pos;
        if (looksLikeOneElement(der, inner, end)) {
          String p = scan(der, inner, end, base + depth + 1, maxDepth, total);
          if (p != null && (p.startsWith("nesting") || p.startsWith("more than"))) {
            return p; // a structure inside: its depth and its element counts are bounded like the rest
          }
        }
      }
      pos = end;
    }
    return null;
  }

  /** True when {@code der[from..to)} starts with a constructed tag whose definite length spans it exactly. */
  private static boolean looksLikeOneElement(byte[] der, int from, int to) {
    if (to - from < 2 || (der[from] & 0x20) == 0 || (der[from] & 0x1f) == 0x1f) {
      return false;
    }
    int l = der[from + 1] & 0xff;
    long len;
    int header;
    if (l < 0x80) {
      len = l;
      header = 2;
    } else {
      int n = l & 0x7f;
      if (n == 0 || n > 4 || from + 2 + n > to) {
        return false;
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (der[from + 2 + i] & 0xff);
      }
      header = 2 + n;
    }
    return from + header + len == to;
  }
}
