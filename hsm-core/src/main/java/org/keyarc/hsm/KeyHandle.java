package org.keyarc.hsm;

import java.util.HexFormat;

/**
 * An opaque reference to a key object inside one token: the token label, the PKCS#11 object handle,
 * and the key's non-secret metadata. It holds no key material and there is no way to get any from it.
 *
 * <p>Handles of token objects stay valid while the token is open; handles of session objects
 * ({@link #sessionObject()}) until they are destroyed or their token closes.
 */
public final class KeyHandle {

  /** The PKCS#11 object class of the key. */
  public enum KeyClass { PRIVATE, PUBLIC, SECRET }

  /** The key type. */
  public enum KeyType { RSA, EC, AES, OTHER }

  private final String tokenLabel;
  private final long handle;
  private final KeyClass keyClass;
  private final KeyType keyType;
  private final String label;
  private final byte[] id;
  private final boolean sessionObject;

  KeyHandle(String tokenLabel, long handle, KeyClass keyClass, KeyType keyType, String label, byte[] id,
      boolean sessionObject) {
    this.tokenLabel = tokenLabel;
    this.handle = handle;
    this.keyClass = keyClass;
    this.keyType = keyType;
    this.label = label;
    this.id = id == null ? new byte[0] : id.clone();
    this.sessionObject = sessionObject;
  }

  public String tokenLabel() {
    return tokenLabel;
  }

  /** The PKCS#11 object handle; meaningful only to the token that issued it. */
  public long objectHandle() {
    return handle;
  }

  public KeyClass keyClass() {
    return keyClass;
  }

  public KeyType keyType() {
    return keyType;
  }

  /** CKA_LABEL, possibly empty. */
  public String label() {
    return label == null ? "" : label;
  }

  /** CKA_ID (a copy), possibly empty. */
  public byte[] id() {
    return id.clone();
  }

  public String idHex() {
    return HexFormat.of().formatHex(id);
  }

  /** True for a session object (CKA_TOKEN=false): gone when destroyed or when its token closes. */
  public boolean sessionObject() {
    return sessionObject;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyHandle k && k.handle == handle && k.tokenLabel.equals(tokenLabel);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(handle) * 31 + tokenLabel.hashCode();
  }

  @Override
  public String toString() {
    return keyType + " " + keyClass.name().toLowerCase() + " key '" + label() + "' (id " + idHex() + ", handle "
        + handle + (sessionObject ? ", session object" : "") + ") on token '" + tokenLabel + "'";
  }
}
