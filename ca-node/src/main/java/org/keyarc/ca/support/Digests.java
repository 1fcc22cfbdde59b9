package org.keyarc.ca.support;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Hex forms of serial numbers and digests, as the store, the audit log and the CLI show them. */
public final class Digests {
  private Digests() {}

  /** A serial number in lower-case hexadecimal, as stored and shown. */
  public static String hex(BigInteger serial) {
    return serial.toString(16);
  }

  public static String sha1Hex(byte[] data) {
    return digestHex("SHA-1", data);
  }

  public static String sha256Hex(byte[] data) {
    return digestHex("SHA-256", data);
  }

  /** SHA-256 of {@code data}. */
  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String digestHex(String alg, byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(alg).digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
