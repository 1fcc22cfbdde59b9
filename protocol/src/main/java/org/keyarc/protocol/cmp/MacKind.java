package org.keyarc.protocol.cmp;

import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.cmp.CMPObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;

/** The password-based MAC protections keyarc accepts. */
public enum MacKind {
  /** id-PasswordBasedMac (RFC 9810 5.1.3.1): iterated hash of secret and salt, then HMAC. */
  PBM(CMPObjectIdentifiers.passwordBasedMac),
  /** id-PBMAC1 (RFC 9481, RFC 8018): PBKDF2, then HMAC. */
  PBMAC1(PKCSObjectIdentifiers.id_PBMAC1);

  private final ASN1ObjectIdentifier algorithm;

  MacKind(ASN1ObjectIdentifier algorithm) {
    this.algorithm = algorithm;
  }

  /** The protectionAlg OID of this kind. */
  public ASN1ObjectIdentifier algorithm() {
    return algorithm;
  }

  /** The kind whose OID this is; empty for any other algorithm (a signature, an unknown MAC). */
  public static Optional<MacKind> of(ASN1ObjectIdentifier protectionAlgorithm) {
    for (MacKind k : values()) {
      if (k.algorithm.equals(protectionAlgorithm)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
