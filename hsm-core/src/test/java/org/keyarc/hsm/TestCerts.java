package org.keyarc.hsm;

import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

/** Certificates built with Bouncy Castle's builders, the way the CA builds them. */
final class TestCerts {
  private TestCerts() {
  }

  static X509CertificateHolder selfSigned(String cn, PublicKey key, ContentSigner signer) {
    Instant now = Instant.now();
    X500Name name = new X500Name("CN=" + cn);
    return new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minus(1, ChronoUnit.MINUTES)), Date.from(now.plus(1, ChronoUnit.DAYS)), name, key)
        .build(signer);
  }

  static X509Certificate toX509(X509CertificateHolder holder) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(holder);
  }

  /** Software verification with Bouncy Castle's verifier (the default JCA providers do the math). */
  static boolean verifies(X509CertificateHolder holder, PublicKey key) throws Exception {
    return holder.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider()).build(key));
  }
}
