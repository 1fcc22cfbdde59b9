package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The issued certificates. Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface CertificateStore {
  default void insert(CertRecord r) throws StoreException {
    insert(r, 0);
  }

  /** A new certificate issued under version {@code templateVersion} of its template (0: not recorded). */
  default void insert(CertRecord r, int templateVersion) throws StoreException {
    insert(r, templateVersion, 0);
  }

  /** Records a certificate issued under {@code templateVersion} and signed by the CA key of {@code caGeneration}. */
  void insert(CertRecord r, int templateVersion, int caGeneration) throws StoreException;

  Optional<CertRecord> find(String issuer, BigInteger serial) throws StoreException;

  Optional<CertRecord> findBySha256(String sha256) throws StoreException;

  /** Newest first; {@code status} and {@code subject} may be null (no filter). */
  List<CertRecord> list(CertRecord.Status status, String subject, int limit) throws StoreException;

  /** Every revoked certificate of {@code issuer} that has not yet expired (the CRL's entries). */
  List<CertRecord> revokedUnexpired(String issuer, Instant now) throws StoreException;

  /** The certificates a CMP transaction issued. */
  List<CertRecord> ofTransaction(String transactionId) throws StoreException;

  /** Unconfirmed certificates whose certConf deadline has passed. */
  List<CertRecord> unconfirmedBefore(Instant now) throws StoreException;

  /**
   * Starts the certConf clock of an UNCONFIRMED certificate issued on approval for a key that proves possession by
   * decrypting it: the clock starts when the certificate is first delivered, encrypted, and replaces the longer
   * collection deadline set at approval. It only ever brings the deadline closer (a later delivery does not move it).
   * False when the deadline was already as close, or the certificate is not waiting.
   */
  boolean startConfirmClock(String issuer, BigInteger serial, Instant deadline) throws StoreException;

  /** UNCONFIRMED → ISSUED. Returns false when the certificate was not waiting for confirmation. */
  boolean confirm(String issuer, BigInteger serial) throws StoreException;

  /**
   * UNCONFIRMED → REVOKED (the client rejected it in certConf). False when the certificate was not waiting for
   * confirmation: a confirmed certificate is revoked only by {@link #revoke}.
   */
  boolean rejectUnconfirmed(String issuer, BigInteger serial, int reason, Instant at) throws StoreException;

  /** The version of its template a certificate was issued under; empty for certificates from before versions. */
  java.util.OptionalInt templateVersion(String issuer, BigInteger serial) throws StoreException;

  /** The certificate with {@code serial} if the CA key of {@code caGeneration} signed it (0 before any rollover). */
  Optional<CertRecord> find(String issuer, BigInteger serial, int caGeneration) throws StoreException;

  /** Marks the certificate revoked; false when it does not exist or is already revoked. */
  boolean revoke(String issuer, BigInteger serial, int reason, Instant at) throws StoreException;

  long count() throws StoreException;
}
