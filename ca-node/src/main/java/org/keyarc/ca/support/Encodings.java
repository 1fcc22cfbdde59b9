package org.keyarc.ca.support;

import java.io.IOException;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.cert.X509CertificateHolder;

/** DER encodings of structures the node built or already parsed (so encoding cannot fail). */
public final class Encodings {
  private Encodings() {}

  public static byte[] der(ASN1Encodable e) {
    try {
      return e.toASN1Primitive().getEncoded("DER");
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  public static byte[] der(X509CertificateHolder c) {
    try {
      return c.getEncoded();
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** A certificate the store holds: its DER was written by this node, so it parses. */
  public static X509CertificateHolder certificate(byte[] der) {
    try {
      return new X509CertificateHolder(der);
    } catch (IOException e) {
      throw new IllegalStateException("a stored certificate does not parse", e);
    }
  }
}
