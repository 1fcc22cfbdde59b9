package org.keyarc.ca.support;

import java.security.Provider;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentVerifier;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.keyarc.protocol.Bc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signature verification on the enrollment hot path (proofs of possession, message protection, PKCS#10 signatures)
 * through a native JCA provider, Amazon Corretto Crypto Provider (AWS-LC), when it loads and passes its self-test on
 * this machine; else, and for any algorithm it does not offer, Bouncy Castle. Measured here, P-256 with a fresh key on
 * one thread: ACCP about 3.6 times Bouncy Castle (docs/performance.md). Bouncy Castle stays for ASN.1, CMS and all
 * that is built; only the verification of a signature moves. The choice is made once and logged.
 */
public final class NativeVerify {
  private static final Logger LOG = LoggerFactory.getLogger(NativeVerify.class);
  private static final Provider NATIVE = load();

  private NativeVerify() {}

  private static Provider load() {
    if (Boolean.getBoolean("keyarc.nativeVerify.off")) {
      LOG.info("signature verification: Bouncy Castle (keyarc.nativeVerify.off)");
      return null;
    }
    try {
      Class<?> c = Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider");
      Provider p = (Provider) c.getField("INSTANCE").get(null);
      c.getMethod("assertHealthy").invoke(p);
      LOG.info("signature verification: {} {} (native AWS-LC); Bouncy Castle for the rest", p.getName(),
          p.getVersionStr());
      return p;
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      LOG.info("signature verification: Bouncy Castle (the native provider cannot be used here: {})",
          Texts.printable(String.valueOf(cause.getMessage())));
      return null;
    }
  }

  /** The provider in use: the native one's name, or "BC". */
  public static String providerName() {
    return NATIVE == null ? Bc.PROVIDER.getName() : NATIVE.getName();
  }

  /** A verifier for signatures by {@code key}. */
  public static ContentVerifierProvider of(SubjectPublicKeyInfo key) throws OperatorCreationException {
    ContentVerifierProvider bc = new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER).build(key);
    if (NATIVE == null) {
      return bc;
    }
    ContentVerifierProvider nat;
    try {
      nat = new JcaContentVerifierProviderBuilder().setProvider(NATIVE).build(key);
    } catch (OperatorCreationException | RuntimeException e) {
      return bc; // a key type the native provider does not read
    }
    return new WithFallback(nat, bc);
  }

  /** A verifier for signatures by {@code cert}'s key. */
  public static ContentVerifierProvider of(X509CertificateHolder cert) throws OperatorCreationException {
    return of(cert.getSubjectPublicKeyInfo());
  }

  /** The native verifier for the algorithms it offers, Bouncy Castle's for the others. */
  private record WithFallback(ContentVerifierProvider primary, ContentVerifierProvider fallback)
      implements ContentVerifierProvider {
    @Override
    public boolean hasAssociatedCertificate() {
      return false;
    }

    @Override
    public X509CertificateHolder getAssociatedCertificate() {
      return null;
    }

    @Override
    public ContentVerifier get(AlgorithmIdentifier alg) throws OperatorCreationException {
      try {
        return primary.get(alg);
      } catch (OperatorCreationException | RuntimeException e) {
        return fallback.get(alg);
      }
    }
  }
}
