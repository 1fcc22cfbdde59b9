package org.keyarc.agent.recovery;

import java.util.Arrays;

/**
 * The recovered private key (a DER PrivateKeyInfo): the one place in keyarc where a private key is
 * plaintext in memory, on the last agent's machine, just long enough to be written into the PKCS#12.
 * Its bytes are reachable only through {@link #plaintext(Access)}, so every use is found by searching
 * for {@code RecoveredKey.Access}. {@link #toString()} shows no key material; {@link #close()} wipes it.
 */
public final class RecoveredKey implements AutoCloseable {
  /** The capability to read the key bytes; only the PKCS#12 writer holds one. */
  public static final class Access {
    static final Access PKCS12_WRITER = new Access();

    private Access() {}
  }

  private final byte[] pkcs8;
  private final String algorithm;

  RecoveredKey(byte[] pkcs8, String algorithm) {
    this.pkcs8 = pkcs8;
    this.algorithm = algorithm;
  }

  /** The DER PrivateKeyInfo. The caller must not keep it. */
  public byte[] plaintext(Access access) {
    if (access == null) {
      throw new IllegalArgumentException("no access");
    }
    return pkcs8;
  }

  @Override
  public void close() {
    Arrays.fill(pkcs8, (byte) 0);
  }

  @Override
  public String toString() {
    return "RecoveredKey[" + algorithm + ", " + pkcs8.length + " bytes, not shown]";
  }
}
