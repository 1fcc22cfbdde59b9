package org.keyarc.ca.e2e;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM files for the tests that hand certificates, CRLs and requests to OpenSSL and back. */
final class Pem {
  private Pem() {}

  /** {@code o} (a certificate, CRL, request, key) as PEM text. */
  static String text(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }

  /** Writes {@code o} as PEM to {@code dir/name}. */
  static void write(Path dir, String name, Object o) throws Exception {
    Files.writeString(dir.resolve(name), text(o));
  }

  /** The certificate in the PEM file {@code dir/name}. */
  static X509CertificateHolder certificate(Path dir, String name) throws Exception {
    try (PEMParser p = new PEMParser(Files.newBufferedReader(dir.resolve(name)))) {
      return (X509CertificateHolder) p.readObject();
    }
  }
}
