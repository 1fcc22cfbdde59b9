package org.keyarc.agent.recovery;

import java.util.Arrays;

/**
 * The recovered private key (a DER PrivateKeyInfo): the one place in keyarc where a private key is
 * plaintext in memory, on the last agent's machine, just long enough to be written into the PKCS#12 or, in a drill
 * or an agent rotation, to sign the node's challenge ({@link #prove}) and be wiped.
 * Its bytes are reachable only through {@link #plaintext(Access)}, so every use is found by searching
 * for {@code RecoveredKey.Access}. {@link #toString()} shows no key material; {@link #close()} wipes it.
 */
public final class RecoveredKey implements AutoCloseable {
  /** The capability to read the key bytes; only the PKCS#12 writer holds one. */
  public static final class Access {
    static final Access PKCS12_WRITER = new Access();

    private Access() {}
  }

  private final byte[] pkcs8;
  private final String algorithm;

  RecoveredKey(byte[] pkcs8, String algorithm) {
    this.pkcs8 = pkcs8;
    this.algorithm = algorithm;
  }

  /** The DER PrivateKeyInfo. The caller must not keep it. */
  public byte[] plaintext(Access access) {
    if (access == null) {
      throw new IllegalArgumentException("no access");
    }
    return pkcs8;
  }

  /** A signature made with the recovered key: the algorithm and the value. */
  public record Proof(org.bouncycastle.asn1.x509.AlgorithmIdentifier algorithm, byte[] signature) {}

  /**
   * Signs {@code message} with the key and checks the signature with {@code cert}'s public key (SHA-256 with RSA or
   * ECDSA): the check of the key against its certificate that a drill or rotation makes without writing the key
   * anywhere, and the proof the node verifies. A key that does not belong to the certificate is refused (BAD_POP).
   */
  public Proof prove(byte[] message, org.bouncycastle.cert.X509CertificateHolder cert) throws RecoveryException {
    try {
      java.security.PrivateKey priv = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(
          org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(pkcs8));
      boolean rsa = priv.getAlgorithm().equals("RSA");
      String name = rsa ? "SHA256withRSA" : "SHA256withECDSA";
      java.security.Signature s = java.security.Signature.getInstance(name);
      s.initSign(priv);
      s.update(message);
      byte[] sig = s.sign();
      java.security.Signature v = java.security.Signature.getInstance(name);
      v.initVerify(new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPublicKey(
          cert.getSubjectPublicKeyInfo()));
      v.update(message);
      if (!v.verify(sig)) {
        throw new RecoveryException(org.keyarc.protocol.ErrorCode.BAD_POP, "the archived key does not belong to "
            + "certificate " + cert.getSerialNumber().toString(16));
      }
      return new Proof(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(rsa
          ? org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha256WithRSAEncryption
          : org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA256), sig);
    } catch (java.io.IOException | java.security.GeneralSecurityException | RuntimeException e) {
      throw new RecoveryException(org.keyarc.protocol.ErrorCode.BAD_POP, "the archived key cannot sign with "
          + "certificate " + cert.getSerialNumber().toString(16) + "'s algorithm: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    Arrays.fill(pkcs8, (byte) 0);
  }

  @Override
  public String toString() {
    return "RecoveredKey[" + algorithm + ", " + pkcs8.length + " bytes, not shown]";
  }
}
