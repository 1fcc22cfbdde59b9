package org.keyarc.ca.store;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The CA's own keys (by token label) and their certificates. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface CaKeyStore {
  /**
   * What a CA key is for. RESPONDER: the key that signs CMP answers (its certificate issued by the CA key);
   * TLS: the node's own TLS server key; CROSS: a rollover's cross-certificate (no key of its own in the token).
   */
  enum Kind { CA, EXCHANGE, AUDIT, RESPONDER, TLS, OCSP, CROSS }

  /** One CA key row. {@code cert} is null for the audit key; {@code retiredAt} when its key was destroyed. */
  record Row(long id, Kind kind, String keyLabel, Instant notBefore, Instant notAfter, Instant createdAt,
      byte[] cert, byte[] publicKey, Instant retiredAt) {
    public Row(long id, Kind kind, String keyLabel, Instant notBefore, Instant notAfter, Instant createdAt,
        byte[] cert, byte[] publicKey) {
      this(id, kind, keyLabel, notBefore, notAfter, createdAt, cert, publicKey, null);
    }
  }

  /** Marks the key {@code label} retired: its private key was destroyed in the HSM. */
  void retire(String label, Instant at) throws StoreException;

  void insert(Kind kind, String label, Instant notBefore, Instant notAfter, byte[] cert,
      byte[] publicKey, Instant at) throws StoreException;

  /** Replaces the certificate of a key (the CA certificate imported from an external parent). */
  void setCertificate(String label, byte[] cert, Instant notBefore, Instant notAfter) throws StoreException;

  /** All keys of a kind, newest first. */
  List<Row> list(Kind kind) throws StoreException;

  /** The CA certificate's chain above it (DER; the issuer first, the root last); empty for a self-signed root. */
  List<byte[]> chain() throws StoreException;

  /** Replaces the chain above the CA certificate. */
  void setChain(List<byte[]> ders) throws StoreException;
}
