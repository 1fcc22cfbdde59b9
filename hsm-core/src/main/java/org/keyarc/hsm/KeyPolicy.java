package org.keyarc.hsm;

/**
 * The attribute policy a key is created (generated or unwrapped) with. Each policy fixes where the key
 * lives (token or session object), whether it is sensitive and extractable, and what it may do.
 * Every long-lived key is sensitive and non-extractable: its bytes can never leave the token.
 */
public enum KeyPolicy {
  /** The CA signing key: token object, sensitive, non-extractable, sign only. */
  CA_SIGNING(true, false, Use.SIGN),
  /** The audit-chain signing key: like the CA key. */
  AUDIT_SIGNING(true, false, Use.SIGN),
  /**
   * A token AES key that only computes MACs (CKM_AES_CMAC): the CA derives one-time enrollment secrets
   * with it, so the database never holds a secret. Sensitive, non-extractable.
   */
  MAC_SECRET(true, false, Use.SIGN),
  /** An enrollee's own key made on its token by {@code keyarc enroll}: token object, sensitive, non-extractable, sign only. */
  ENROLLEE_SIGNING(true, false, Use.SIGN),
  /**
   * The CA node's TLS server key: token object, sensitive, non-extractable, sign only (the handshake signatures,
   * through SunPKCS11). Its certificate is stored next to it so that SunPKCS11's KeyStore lists it.
   */
  TLS_SERVER(true, false, Use.SIGN),
  /**
   * The CA exchange key clients encrypt to: token object, sensitive, non-extractable, unwrap only (no
   * CKA_DECRYPT: nothing it protects can be decrypted into the host's memory, only unwrapped into the token).
   */
  EXCHANGE(true, false, Use.UNWRAP_ONLY),
  /**
   * An exchange key that may also decrypt, for the audited software-unwrap path
   * ({@code archival.allowSoftwareUnwrap}): made only while that setting is on.
   */
  EXCHANGE_SOFTWARE_UNWRAP(true, false, Use.UNWRAP),
  /** A recovery agent's key on its smartcard: like the exchange key. */
  RECOVERY_AGENT(true, false, Use.UNWRAP),
  /**
   * A recovery agent's key while its card is being enrolled: it may also sign, once, for the PKCS#10;
   * {@code HsmSession.forbidSigning} then turns it into {@link #RECOVERY_AGENT}.
   */
  RECOVERY_AGENT_ENROLLING(true, false, Use.SIGN_UNWRAP),
  /**
   * A per-operation symmetric key (the archival transport key): session object, sensitive, but
   * extractable so that it can itself be wrapped (C_WrapKey) to the recovery agents' public keys.
   */
  SESSION_TRANSPORT(false, true, Use.WRAP),
  /**
   * A per-operation private key unwrapped into the token (the enrollee's key during archival):
   * session object, sensitive, extractable only so that it can be re-wrapped, may sign (for the pair check).
   */
  SESSION_UNWRAPPED(false, true, Use.SIGN),
  /** A throw-away unwrapping key pair (capability probes): session object, non-extractable, unwrap only. */
  SESSION_UNWRAPPING(false, false, Use.UNWRAP),
  /** A public key imported for one operation (an agent's wrapping key): session object. */
  SESSION_PUBLIC(false, true, Use.WRAP);

  /** What a key may be used for. */
  enum Use { SIGN, UNWRAP, UNWRAP_ONLY, WRAP, SIGN_UNWRAP }

  private final boolean tokenObject;
  private final boolean extractable;
  private final Use use;

  KeyPolicy(boolean tokenObject, boolean extractable, Use use) {
    this.tokenObject = tokenObject;
    this.extractable = extractable;
    this.use = use;
  }

  public boolean tokenObject() {
    return tokenObject;
  }

  public boolean extractable() {
    return extractable;
  }

  boolean canSign() {
    return use == Use.SIGN || use == Use.SIGN_UNWRAP;
  }

  boolean canUnwrap() {
    return use == Use.UNWRAP || use == Use.UNWRAP_ONLY || use == Use.WRAP || use == Use.SIGN_UNWRAP;
  }

  /** CKA_DECRYPT: every unwrapping key but the unwrap-only ones (the agents' CMS layers need decryption). */
  boolean canDecrypt() {
    return canUnwrap() && use != Use.UNWRAP_ONLY;
  }

  boolean canWrap() {
    return use == Use.WRAP;
  }
}
