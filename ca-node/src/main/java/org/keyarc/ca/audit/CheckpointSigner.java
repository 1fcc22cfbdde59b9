package org.keyarc.ca.audit;

/** Signs an audit checkpoint with the HSM audit key. */
public interface CheckpointSigner {
  /** The token label of the audit key. */
  String keyLabel();

  /** The signature over {@code data}, made inside the HSM (ECDSA/RSA as the key dictates). */
  byte[] sign(byte[] data) throws Exception;
}
