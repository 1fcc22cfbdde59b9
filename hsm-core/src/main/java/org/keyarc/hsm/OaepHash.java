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
}
