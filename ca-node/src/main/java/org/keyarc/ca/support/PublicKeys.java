package org.keyarc.ca.support;

import java.io.IOException;
import java.security.PublicKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** JCA public keys from SubjectPublicKeyInfo. */
public final class PublicKeys {
  private PublicKeys() {}

  public static PublicKey publicKey(SubjectPublicKeyInfo spki) {
    try {
      return new JcaPEMKeyConverter().getPublicKey(spki);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable public key: " + e.getMessage(), e);
    }
  }
}
