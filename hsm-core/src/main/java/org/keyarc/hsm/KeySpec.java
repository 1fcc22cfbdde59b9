package org.keyarc.hsm;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;

/** The key sizes and curves keyarc generates. */
public enum KeySpec {
  RSA_2048(KeyHandle.KeyType.RSA, 2048, null),
  RSA_3072(KeyHandle.KeyType.RSA, 3072, null),
  RSA_4096(KeyHandle.KeyType.RSA, 4096, null),
  EC_P256(KeyHandle.KeyType.EC, 256, SECObjectIdentifiers.secp256r1),
  EC_P384(KeyHandle.KeyType.EC, 384, SECObjectIdentifiers.secp384r1),
  AES_256(KeyHandle.KeyType.AES, 256, null);

  private final KeyHandle.KeyType type;
  private final int bits;
  private final ASN1ObjectIdentifier curve;

  KeySpec(KeyHandle.KeyType type, int bits, ASN1ObjectIdentifier curve) {
    this.type = type;
    this.bits = bits;
    this.curve = curve;
  }

  public KeyHandle.KeyType type() {
    return type;
  }

  public int bits() {
    return bits;
  }

  /** The named curve of an EC spec, else null. */
  public ASN1ObjectIdentifier curve() {
    return curve;
  }

  /** Accepts "rsa2048", "RSA-2048", "p256", "ec-p256", "aes256" and the enum names. */
  public static KeySpec parse(String text) {
    String t = text.trim().toUpperCase().replace("-", "").replace("_", "");
    switch (t) {
      case "RSA2048": return RSA_2048;
      case "RSA3072": return RSA_3072;
      case "RSA4096": return RSA_4096;
      case "P256": case "ECP256": case "SECP256R1": return EC_P256;
      case "P384": case "ECP384": case "SECP384R1": return EC_P384;
      case "AES256": return AES_256;
      default:
        throw new IllegalArgumentException("unknown key type '" + text
            + "'; use one of rsa2048, rsa3072, rsa4096, p256, p384, aes256");
    }
  }
}
