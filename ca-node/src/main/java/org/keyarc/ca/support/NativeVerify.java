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

  /**
   * A verifier for signatures by {@code key}: the native provider's for the algorithms it offers, Bouncy Castle's for
   * the others (built only when one is asked for). The key is decoded once, by the native provider.
   */
  public static ContentVerifierProvider of(SubjectPublicKeyInfo key) throws OperatorCreationException {
    if (NATIVE == null) {
      return bc(key);
    }
    checkRsaModulus(key);
    java.security.PublicKey nativeKey;
    try {
      nativeKey = java.security.KeyFactory.getInstance(keyAlgorithm(key), NATIVE)
          .generatePublic(new java.security.spec.X509EncodedKeySpec(key.getEncoded()));
    } catch (java.security.GeneralSecurityException | java.io.IOException | RuntimeException e) {
      return bc(key); // a key type the native provider does not read
    }
    return new Native(key, nativeKey);
  }

  /** A verifier for signatures by {@code cert}'s key. */
  public static ContentVerifierProvider of(X509CertificateHolder cert) throws OperatorCreationException {
    return of(cert.getSubjectPublicKeyInfo());
  }

  /**
   * The name of the provider that verifies {@code v}'s signatures: the native provider's for a verifier of {@link
   * #of} it serves, "BC" otherwise (tests, and a reader wondering which one runs).
   */
  public static String providerOf(ContentVerifier v) {
    return v instanceof NativeVerifier n ? n.signature.getProvider().getName() : Bc.PROVIDER.getName();
  }

  /**
   * Bouncy Castle's checks of an RSA public key (an even modulus, small factors, a prime modulus: a key whose private
   * half anyone could compute), which its own key decoding makes and the native provider's does not: a proof of
   * possession by such a key must not verify.
   */
  private static void checkRsaModulus(SubjectPublicKeyInfo key) throws OperatorCreationException {
    if (!key.getAlgorithm().getAlgorithm().equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption)) {
      return;
    }
    try {
      org.bouncycastle.asn1.pkcs.RSAPublicKey rsa = org.bouncycastle.asn1.pkcs.RSAPublicKey.getInstance(
          key.parsePublicKey());
      new org.bouncycastle.crypto.params.RSAKeyParameters(false, rsa.getModulus(), rsa.getPublicExponent());
    } catch (java.io.IOException | RuntimeException e) {
      throw new OperatorCreationException("the RSA public key is not usable: " + e.getMessage(), e);
    }
  }

  private static ContentVerifierProvider bc(SubjectPublicKeyInfo key) throws OperatorCreationException {
    return new JcaContentVerifierProviderBuilder().setProvider(Bc.PROVIDER).build(key);
  }

  /** The JCA key algorithm of {@code key}: "EC" or "RSA" (what the native provider reads), else its OID. */
  private static String keyAlgorithm(SubjectPublicKeyInfo key) {
    org.bouncycastle.asn1.ASN1ObjectIdentifier oid = key.getAlgorithm().getAlgorithm();
    if (oid.equals(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey)) {
      return "EC";
    }
    if (oid.equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption)) {
      return "RSA";
    }
    return oid.getId();
  }

  /** Signature algorithm names as Bouncy Castle's operators name them ("SHA256WITHECDSA"). */
  private static final org.bouncycastle.operator.DefaultSignatureNameFinder NAMES =
      new org.bouncycastle.operator.DefaultSignatureNameFinder();

  /**
   * The native provider's verifiers over one key, made here rather than by Bouncy Castle's
   * JcaContentVerifierProviderBuilder: with that builder (for ECDSA and RSA it also makes a "raw" NONEwith...
   * signature, which the native provider lacks), the node's profile under load showed every POP still verified by
   * Bouncy Castle (DSABase, ECDSASigner) although the native provider was loaded (issue 19). {@link #providerOf} says
   * which provider a verifier uses; NativeVerifyTest holds it to the native one.
   */
  private static final class Native implements ContentVerifierProvider {
    private final SubjectPublicKeyInfo key;
    private final java.security.PublicKey nativeKey;
    private ContentVerifierProvider fallback;

    Native(SubjectPublicKeyInfo key, java.security.PublicKey nativeKey) {
      this.key = key;
      this.nativeKey = nativeKey;
    }

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
      // RSASSA-PSS carries its parameters in the AlgorithmIdentifier; Bouncy Castle reads them
      if (!alg.getAlgorithm().equals(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSASSA_PSS)) {
        try {
          java.security.Signature s = java.security.Signature.getInstance(NAMES.getAlgorithmName(alg), NATIVE);
          s.initVerify(nativeKey);
          return new NativeVerifier(alg, s);
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
          // an algorithm the native provider does not offer: Bouncy Castle's below
        }
      }
      synchronized (this) {
        if (fallback == null) {
          fallback = bc(key);
        }
      }
      return fallback.get(alg);
    }
  }

  /** One signature, verified by the native provider. */
  private static final class NativeVerifier implements ContentVerifier {
    private final AlgorithmIdentifier alg;
    private final java.security.Signature signature;
    private final java.io.OutputStream out;

    NativeVerifier(AlgorithmIdentifier alg, java.security.Signature signature) {
      this.alg = alg;
      this.signature = signature;
      this.out = new java.io.OutputStream() {
        @Override
        public void write(int b) throws java.io.IOException {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
          try {
            signature.update(b, off, len);
          } catch (java.security.SignatureException e) {
            throw new java.io.IOException(e.getMessage(), e);
          }
        }
      };
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
      return alg;
    }

    @Override
    public java.io.OutputStream getOutputStream() {
      return out;
    }

    @Override
    public boolean verify(byte[] expected) {
      try {
        return signature.verify(expected);
      } catch (java.security.SignatureException e) {
        return false; // not a signature of this form (a malformed DER ECDSA value, a wrong length)
      }
    }
  }
}
