package org.keyarc.ca.issue;

import java.math.BigInteger;
import java.util.List;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.protocol.ErrorCode;

import static org.keyarc.ca.support.Digests.hex;

/** Reading the certificates this CA issued (cert list / show; the template a kur keeps). */
public final class CertificateQueries {
  private final Store store;
  private final String issuer;

  public CertificateQueries(Store store, String issuer) {
    this.store = store;
    this.issuer = issuer;
  }

  /** Certificates, newest first. Manager, administrator or auditor. */
  /** Most certificates one list call returns. */
  public static final int MAX_PAGE = 1000;

  public List<CertRecord> list(Identity who, CertRecord.Status status, String subject, int limit) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    if (limit < 1 || limit > MAX_PAGE) {
      throw new CaException(ErrorCode.BAD_REQUEST, "limit must be 1.." + MAX_PAGE + ", not " + limit);
    }
    return store.inTransaction(tx -> tx.certificates().list(status, subject, limit));
  }

  public CertRecord show(Identity who, BigInteger serial) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR, Role.AUDITOR);
    return find(serial);
  }

  /**
   * The serials among {@code records} whose private keys are archived (ADCS's "Archived Key" column), in one unit
   * of work: what the readers of {@link #list} and {@link #show} see beside each certificate.
   */
  public java.util.Set<BigInteger> archived(List<CertRecord> records) throws CaException {
    return store.inTransaction(tx -> {
      java.util.Set<BigInteger> out = new java.util.HashSet<>();
      for (CertRecord r : records) {
        if (!tx.archives().bySerial(issuer, r.serial()).isEmpty()) {
          out.add(r.serial());
        }
      }
      return out;
    });
  }

  /** The version of its template a certificate was issued under, if recorded (readers of {@link #show}). */
  public java.util.OptionalInt templateVersion(BigInteger serial) throws CaException {
    return store.inTransaction(tx -> tx.certificates().templateVersion(issuer, serial));
  }

  /** The template a certificate of this CA was issued under (kur keeps it). */
  public String templateOf(BigInteger serial) throws CaException {
    return find(serial).template();
  }

  /** The record of a certificate of this CA (the sender's own, for the enrollment policy), if there is one. */
  public java.util.Optional<CertRecord> record(BigInteger serial) throws CaException {
    return store.inTransaction(tx -> tx.certificates().find(issuer, serial));
  }

  private CertRecord find(BigInteger serial) throws CaException {
    return store.inTransaction(tx -> tx.certificates().find(issuer, serial)).orElseThrow(() -> new CaException(
        ErrorCode.NOT_FOUND, "no certificate with serial " + hex(serial)));
  }
}
