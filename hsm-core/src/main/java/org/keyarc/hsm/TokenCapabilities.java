package org.keyarc.hsm;

/**
 * What a token can really do for keyarc, found by trying it with throw-away session keys: the mechanism
 * list alone does not tell (SoftHSM2 2.6.1 lists CKM_RSA_PKCS_OAEP but does it only with SHA-1, and
 * lists CKM_AES_CBC_PAD with CKF_WRAP but cannot wrap private keys with it).
 *
 * @param oaepSha1 RSA-OAEP wrap/unwrap of an AES key with SHA-1/MGF1-SHA1 works
 * @param oaepSha256 RSA-OAEP wrap/unwrap with SHA-256/MGF1-SHA256 works
 * @param aesKeyWrapPad CKM_AES_KEY_WRAP_PAD wraps and unwraps an RSA private key
 * @param aesCbcPadWrap CKM_AES_CBC_PAD wraps an RSA private key
 */
public record TokenCapabilities(boolean oaepSha1, boolean oaepSha256, boolean aesKeyWrapPad, boolean aesCbcPadWrap) {

  /** The OAEP hash to configure for this token: SHA-256 when it works, else SHA-1, else null. */
  public OaepHash bestOaepHash() {
    return oaepSha256 ? OaepHash.SHA256 : oaepSha1 ? OaepHash.SHA1 : null;
  }
}
