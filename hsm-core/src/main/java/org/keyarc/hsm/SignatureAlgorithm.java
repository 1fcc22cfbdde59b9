package org.keyarc.hsm;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The signature algorithms keyarc signs with, and how each maps onto PKCS#11.
 *
 * <p>RSA PKCS#1 v1.5 and RSA-PSS use the token's hash-and-sign mechanisms. ECDSA hashes in software and
 * signs the digest with CKM_ECDSA (SoftHSM2 does not offer CKM_ECDSA_SHA256); the token returns r‖s,
 * which {@link HsmSession#sign} DER-encodes as X.509 expects.
 */
public enum SignatureAlgorithm {
  SHA256_WITH_RSA("SHA256withRSA", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA256_RSA_PKCS, null, 0),
  SHA384_WITH_RSA("SHA384withRSA", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA384_RSA_PKCS, null, 0),
  SHA512_WITH_RSA("SHA512withRSA", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA512_RSA_PKCS, null, 0),
  SHA256_WITH_RSA_PSS("SHA256withRSAandMGF1", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA256_RSA_PKCS_PSS,
      "SHA-256", 32),
  SHA384_WITH_RSA_PSS("SHA384withRSAandMGF1", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA384_RSA_PKCS_PSS,
      "SHA-384", 48),
  SHA512_WITH_RSA_PSS("SHA512withRSAandMGF1", KeyHandle.KeyType.RSA, PKCS11Constants.CKM_SHA512_RSA_PKCS_PSS,
      "SHA-512", 64),
  SHA256_WITH_ECDSA("SHA256withECDSA", KeyHandle.KeyType.EC, PKCS11Constants.CKM_ECDSA, "SHA-256", 0),
  SHA384_WITH_ECDSA("SHA384withECDSA", KeyHandle.KeyType.EC, PKCS11Constants.CKM_ECDSA, "SHA-384", 0),
  SHA512_WITH_ECDSA("SHA512withECDSA", KeyHandle.KeyType.EC, PKCS11Constants.CKM_ECDSA, "SHA-512", 0);

  private final String jcaName;
  private final KeyHandle.KeyType keyType;
  private final long mechanism;
  private final String digest;
  private final int pssSaltLength;
  private final AlgorithmIdentifier algorithmIdentifier;

  SignatureAlgorithm(String jcaName, KeyHandle.KeyType keyType, long mechanism, String digest, int pssSaltLength) {
    this.jcaName = jcaName;
    this.keyType = keyType;
    this.mechanism = mechanism;
    this.digest = digest;
    this.pssSaltLength = pssSaltLength;
    this.algorithmIdentifier = new DefaultSignatureAlgorithmIdentifierFinder().find(jcaName);
  }

  /** The name Bouncy Castle's and the JDK's signature factories know ("SHA256withECDSA"). */
  public String jcaName() {
    return jcaName;
  }

  public AlgorithmIdentifier algorithmIdentifier() {
    return algorithmIdentifier;
  }

  public KeyHandle.KeyType keyType() {
    return keyType;
  }

  long mechanism() {
    return mechanism;
  }

  boolean isPss() {
    return pssSaltLength > 0;
  }

  boolean isEcdsa() {
    return keyType == KeyHandle.KeyType.EC;
  }

  /** JCA digest name: the pre-hash for ECDSA, the PSS hash for RSA-PSS. */
  String digest() {
    return digest;
  }

  int pssSaltLength() {
    return pssSaltLength;
  }

  /** The default algorithm for a key: SHA-256 with RSA PKCS#1 v1.5, or SHA-256/SHA-384 ECDSA by curve. */
  public static SignatureAlgorithm defaultFor(KeySpec spec) {
    switch (spec) {
      case EC_P256: return SHA256_WITH_ECDSA;
      case EC_P384: return SHA384_WITH_ECDSA;
      case RSA_2048: case RSA_3072: case RSA_4096: return SHA256_WITH_RSA;
      default: throw new IllegalArgumentException(spec + " cannot sign");
    }
  }
}
