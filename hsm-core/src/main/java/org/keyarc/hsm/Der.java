package org.keyarc.hsm;

import java.util.Arrays;

/** Small DER facts hsm-core users need, where Bouncy Castle offers no direct call. */
public final class Der {
  private Der() {
  }

  /**
   * The leading DER element of {@code data}, without what follows it. SoftHSM2 zero-pads a PKCS#8 key
   * to a multiple of 8 bytes before RFC 5649 wrapping, so a strict unwrap elsewhere returns the DER plus
   * 1–7 zero bytes; the DER length field says where the key ends.
   *
   * @throws IllegalArgumentException if {@code data} does not start with a complete DER element
   */
  public static byte[] trimTrailingPadding(byte[] data) {
    if (data.length < 2) {
      throw new IllegalArgumentException("too short for DER: " + data.length + " bytes");
    }
    int first = data[1] & 0xff;
    long length;
    int header;
    if (first < 0x80) {
      length = first;
      header = 2;
    } else {
      int n = first & 0x7f;
      if (n == 0 || n > 4 || data.length < 2 + n) {
        throw new IllegalArgumentException("not a definite-length DER element");
      }
      length = 0;
      for (int i = 0; i < n; i++) {
        length = (length << 8) | (data[2 + i] & 0xff);
      }
      header = 2 + n;
    }
    long total = header + length;
    if (total > data.length) {
      throw new IllegalArgumentException("DER element of " + total + " bytes in " + data.length + " bytes");
    }
    return Arrays.copyOf(data, (int) total);
  }
}
