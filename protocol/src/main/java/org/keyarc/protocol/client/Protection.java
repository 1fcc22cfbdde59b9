package org.keyarc.protocol.client;

import java.security.PrivateKey;
import java.security.Provider;
import org.bouncycastle.cert.X509CertificateHolder;

/** How a client protects its CMP messages. */
public sealed interface Protection {

  /**
   * Password-based MAC with a one-time secret: PBM (RFC 9810 5.1.3.1) or PBMAC1 (RFC 9481). The
   * reference goes in senderKID. {@link #toString()} never shows the secret.
   */
  record Mac(String reference, char[] secret, boolean pbmac1) implements Protection {
    @Override
    public String toString() {
      return "Mac[" + reference + (pbmac1 ? ", PBMAC1" : ", PBM") + "]";
    }
  }

  /** Signature with a certificate this CA issued and its private key ({@code provider} null = default). */
  record Signature(X509CertificateHolder cert, PrivateKey key, Provider provider) implements Protection {
    @Override
    public String toString() {
      return "Signature[" + cert.getSubject() + "]";
    }
  }

  /** No protection (only for messages a CA answers unauthenticated, such as a CRL genm). */
  record None() implements Protection {}
}
