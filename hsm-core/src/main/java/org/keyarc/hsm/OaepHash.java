package org.keyarc.hsm;

import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The hash of RSA-OAEP (the same hash is used for MGF1). A setting, because tokens differ: SoftHSM2
 * 2.6.1 does OAEP only with SHA-1; real HSMs and cards should use SHA-256.
 */
public enum OaepHash {
  SHA1(PKCS11Constants.CKM_SHA_1, PKCS11Constants.CKG_MGF1_SHA1, "SHA-1"),
  SHA256(PKCS11Constants.CKM_SHA256, PKCS11Constants.CKG_MGF1_SHA256, "SHA-256");

  private final long hashMechanism;
  private final long mgf;
  private final String jcaName;

  OaepHash(long hashMechanism, long mgf, String jcaName) {
    this.hashMechanism = hashMechanism;
    this.mgf = mgf;
    this.jcaName = jcaName;
  }

  long hashMechanism() {
    return hashMechanism;
  }

  long mgf() {
    return mgf;
  }

  /** "SHA-1" or "SHA-256", as JCA names the digest. */
  public String jcaName() {
    return jcaName;
  }

  /** Accepts "SHA-1", "sha1", "SHA-256", "sha256". */
  public static OaepHash parse(String text) {
    String t = text.trim().toUpperCase().replace("-", "");
    if (t.equals("SHA1")) {
      return SHA1;
    }
    if (t.equals("SHA256")) {
      return SHA256;
    }
    throw new IllegalArgumentException("unknown oaep-hash '" + text + "'; use SHA-1 or SHA-256");
  }

  /** The RSAES-OAEP AlgorithmIdentifier with this hash and MGF1 with the same hash. */
  public org.bouncycastle.asn1.x509.AlgorithmIdentifier algorithmIdentifier() {
    org.bouncycastle.asn1.x509.AlgorithmIdentifier digest = this == SHA1
        ? new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.oiw.OIWObjectIdentifiers.idSHA1, org.bouncycastle.asn1.DERNull.INSTANCE)
        : new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.nist.NISTObjectIdentifiers.id_sha256, org.bouncycastle.asn1.DERNull.INSTANCE);
    return new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
        org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_RSAES_OAEP,
        new org.bouncycastle.asn1.pkcs.RSAESOAEPparams(digest, new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_mgf1, digest),
            org.bouncycastle.asn1.pkcs.RSAESOAEPparams.DEFAULT_P_SOURCE_ALGORITHM));
  }

  /** The JCA parameters of this OAEP variant (for software encryption to a public key). */
  public javax.crypto.spec.OAEPParameterSpec spec() {
    return new javax.crypto.spec.OAEPParameterSpec(jcaName, "MGF1", this == SHA1
        ? java.security.spec.MGF1ParameterSpec.SHA1 : java.security.spec.MGF1ParameterSpec.SHA256,
        javax.crypto.spec.PSource.PSpecified.DEFAULT);
  }
}
