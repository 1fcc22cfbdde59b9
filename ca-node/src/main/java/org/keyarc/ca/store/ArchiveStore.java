package org.keyarc.ca.store;

import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.keyarc.protocol.archive.ArchiveRecord;

/** Archived private keys (ciphertext to the recovery agents). Every method runs on the caller's unit of work ({@link StoreTx}). */
public interface ArchiveStore {
  /** One archived key. {@code record} is the DER ArchiveRecord (ciphertext only). */
  record Row(String issuer, BigInteger serial, String subject, String certSha256, String certSha1,
      int threshold, int agents, Instant createdAt, byte[] record) {
    @Override
    public String toString() {
      return "Archive[" + serial.toString(16) + ", " + subject + ", " + threshold + " of " + agents + "]";
    }
  }

  void insert(Row r) throws StoreException;

  List<Row> bySerial(String issuer, BigInteger serial) throws StoreException;

  List<Row> bySubject(String subject) throws StoreException;

  /** An archive's key: its certificate's issuer and serial. */
  record Key(String issuer, BigInteger serial) {}

  /** Every archive's key (this CA's and external ones), oldest first, at most {@code limit}. */
  List<Key> keys(int limit) throws StoreException;

  /** The certificate serials of {@code issuer}'s archives, oldest first, at most {@code limit}. */
  List<BigInteger> serials(String issuer, int limit) throws StoreException;

  /** By certificate hash: 64 hex digits (SHA-256) or 40 (SHA-1). */
  List<Row> byCertHash(String hex) throws StoreException;

  long count() throws StoreException;

  /**
   * An archive's record history: the version number of its record, the record a rotation replaced (kept until a
   * drill of the new one passes; null when there is none), and when a drill last proved the current record.
   */
  record Versions(int version, byte[] previous, Instant verifiedAt) {}

  Versions versions(String issuer, BigInteger serial) throws StoreException;

  /** Keeps the certificate of an archive whose certificate another CA issued (an imported key's). */
  void setExternalCertificate(String issuer, BigInteger serial, byte[] der) throws StoreException;

  /** The certificate kept for an external archive, or null. */
  byte[] externalCertificate(String issuer, BigInteger serial) throws StoreException;

  /**
   * A rotation's new record for the archive whose record is {@code current} (else nothing changes and false is
   * returned): {@code current} becomes the kept previous record, the version goes up, and the record is unverified.
   */
  boolean replaceRecord(String issuer, BigInteger serial, byte[] current, byte[] replacement, int threshold,
      int agents) throws StoreException;

  /**
   * A drill proved the record {@code current} (else nothing changes and false is returned); {@code dropPrevious}: the
   * kept previous record is dropped.
   */
  boolean markVerified(String issuer, BigInteger serial, byte[] current, Instant at, boolean dropPrevious)
      throws StoreException;
}
