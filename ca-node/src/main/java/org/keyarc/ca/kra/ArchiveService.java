package org.keyarc.ca.kra;

import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Authorization;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.AgentStore;
import org.keyarc.ca.store.ArchiveStore;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.archive.ArchiveRecord;

import static org.keyarc.ca.support.Digests.hex;

/**
 * Archive lookup for certificate managers (like {@code certutil -getkey}): the archive records, and each as
 * a CA-signed recovery blob. The blob is ciphertext only: the manager who fetches it cannot open it.
 */
public final class ArchiveService {
  private final Store store;
  private final CaKeyring keys;
  private final Clock clock;
  private final String issuer;

  private final AgentService agents;
  private final KeyArchiver archiver;

  /** {@code agents} and {@code archiver} archive imported keys ({@link #importKey}). */
  public ArchiveService(Store store, CaKeyring keys, Clock clock, AgentService agents, KeyArchiver archiver) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.issuer = keys.caName().toString();
    this.agents = agents;
    this.archiver = archiver;
  }

  /**
   * Archives an existing key (ADCS's {@code certutil -importKMS}): {@code encrypted} is the private key encrypted on
   * the importing workstation to the exchange certificate, as a client's archival sends it, for {@code cert}, a
   * certificate this CA issued (the one it holds under that serial). The key goes through the same HSM path as an
   * enrollment's — unwrapped, proven to belong to the certificate, wrapped to the agents, never plaintext here —
   * and is audited. Manager or administrator; a certificate already archived is refused. A certificate of another CA
   * (an old ADCS's, an Exchange KMS's) is recorded as external: kept with the archive, and named in the signed record
   * by its SHA-256, since the blob's certificate list is not covered by the CA's signature.
   */
  public ArchiveStore.Row importKey(Identity who, X509CertificateHolder cert,
      org.bouncycastle.asn1.crmf.EncryptedKey encrypted) throws CaException {
    Authorization.require(who, Role.MANAGER, Role.ADMINISTRATOR);
    byte[] der = Encodings.der(cert);
    String certIssuer = cert.getIssuer().toString();
    boolean ours = cert.getIssuer().equals(keys.caName());
    Instant now = clock.instant();
    store.inTransaction(tx -> {
      if (ours) {
        java.util.Optional<org.keyarc.ca.store.CertRecord> rec = tx.certificates().find(issuer, cert.getSerialNumber());
        if (rec.isEmpty() || !java.util.Arrays.equals(rec.get().der(), der)) {
          throw new CaException(ErrorCode.BAD_INPUT, "certificate " + hex(cert.getSerialNumber()) + " names this CA "
              + "as its issuer but is not the one this CA issued under that serial");
        }
      }
      if (!tx.archives().bySerial(certIssuer, cert.getSerialNumber()).isEmpty()) {
        throw new CaException(ErrorCode.BAD_REQUEST, "the key of certificate " + hex(cert.getSerialNumber())
            + " is archived already");
      }
      return null;
    });
    AgentStore.Policy policy = agents.policy();
    List<X509CertificateHolder> to = agents.archivalAgents(policy);
    KeyArchiver.Sealed sealed = archiver.seal(encrypted, cert.getSubjectPublicKeyInfo(), to, policy.threshold(), now);
    // another CA's certificate: kept with the archive, and named by its hash in the signed record
    byte[] external = ours ? null : der;
    ArchiveStore.Row row = new ArchiveStore.Row(certIssuer, cert.getSerialNumber(), cert.getSubject().toString(),
        Digests.sha256Hex(der), Digests.sha1Hex(der), policy.threshold(), to.size(), now,
        Encodings.der(sealed.record(cert, ours ? null : org.keyarc.ca.support.Digests.sha256(der))));
    store.inTransaction(tx -> {
      tx.archives().insert(row);
      if (external != null) {
        tx.archives().setExternalCertificate(certIssuer, cert.getSerialNumber(), external);
      }
      Audit.append(tx, who.actor(), AuditAction.KEY_ARCHIVE, "serial:" + hex(cert.getSerialNumber()), "imported"
          + (ours ? "" : " external issuer=" + org.keyarc.ca.support.Texts.printable(certIssuer))
          + " threshold=" + policy.threshold() + " agents=" + to.size()
          + (sealed.softwareUnwrap() ? " unwrap=software (archival.allowSoftwareUnwrap)" : " unwrap=hsm"), now);
      return null;
    });
    return row;
  }

  /** A recovery blob: the certificate it is for and the CA-signed DER. */
  public record KeyBlob(BigInteger serial, String subject, int threshold, int agents, byte[] blob) {}

  /** How many archives a search by e-mail address or UPN reads at most (it reads each one's certificate). */
  public static final int NAME_SEARCH_LIMIT = 100_000;

  /**
   * Archive records of this CA whose certificates carry {@code name} as an rfc822Name or UPN (case does not matter):
   * all of a user's archived keys, as a manager searching by e-mail address or UPN wants them. Reads every archive's
   * certificate (at most {@link #NAME_SEARCH_LIMIT}). Manager only.
   */
  public List<ArchiveStore.Row> findByName(Identity who, String name) throws CaException {
    Authorization.require(who, Role.MANAGER);
    if (name == null || name.isBlank() || name.length() > 320) {
      throw new CaException(ErrorCode.BAD_REQUEST, "give an e-mail address or UPN of at most 320 characters");
    }
    java.util.Set<String> wanted = java.util.Set.of("email:" + name.toLowerCase(java.util.Locale.ROOT),
        "upn:" + name.toLowerCase(java.util.Locale.ROOT));
    return store.inTransaction(tx -> {
      List<ArchiveStore.Row> out = new ArrayList<>();
      for (BigInteger serial : tx.archives().serials(issuer, NAME_SEARCH_LIMIT)) {
        java.util.Optional<org.keyarc.ca.store.CertRecord> c = tx.certificates().find(issuer, serial);
        if (c.isEmpty()) {
          continue;
        }
        org.bouncycastle.asn1.x509.GeneralNames sans = org.bouncycastle.asn1.x509.GeneralNames.fromExtensions(
            Encodings.certificate(c.get().der()).getExtensions(), org.bouncycastle.asn1.x509.Extension
                .subjectAlternativeName);
        if (org.keyarc.ca.template.NameRules.texts(sans).stream().map(t -> t.toLowerCase(java.util.Locale.ROOT))
            .anyMatch(wanted::contains)) {
          out.addAll(tx.archives().bySerial(issuer, serial));
        }
      }
      return out;
    });
  }

  /** Archive records by certificate serial, subject or certificate hash. Manager only. */
  public List<ArchiveStore.Row> find(Identity who, BigInteger serial, String subject, String certHash)
      throws CaException {
    Authorization.require(who, Role.MANAGER);
    if (serial != null) {
      return store.inTransaction(tx -> tx.archives().bySerial(issuer, serial));
    }
    if (subject != null) {
      String normalized;
      try {
        normalized = new X500Name(subject).toString();
      } catch (IllegalArgumentException e) {
        throw new CaException(ErrorCode.BAD_SUBJECT, "subject '" + org.keyarc.ca.support.Texts.printable(subject)
            + "' is not a distinguished name");
      }
      return store.inTransaction(tx -> tx.archives().bySubject(normalized));
    }
    if (certHash == null || !certHash.matches("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")) {
      throw new CaException(ErrorCode.BAD_REQUEST, "name the archived key by serial, subject, or certHash (the "
          + "certificate's SHA-256 or SHA-1 in hex)");
    }
    return store.inTransaction(tx -> tx.archives().byCertHash(certHash));
  }

  /**
   * getkey: the archive records found, each as a CMS SignedData signed by the CA key (content: the
   * ArchiveRecord; certificates: CA, the key's certificate, the agents'). Manager only, audited.
   */
  public List<KeyBlob> getKey(Identity who, BigInteger serial, String subject, String certHash) throws CaException {
    return blobs(who, find(who, serial, subject, certHash));
  }

  /** {@link #getKey} for every archived key of the user with e-mail address or UPN {@code name}. */
  public List<KeyBlob> getKeyByName(Identity who, String name) throws CaException {
    return blobs(who, findByName(who, name));
  }

  /**
   * CMS SignedData of {@code content} (encapsulated) signed by the current CA key, with {@code certs}: the recovery
   * blobs and the recovery receipts ({@code what} names it in errors).
   */
  byte[] signedByCa(CMSProcessableByteArray content, List<X509CertificateHolder> certs, String what)
      throws CaException {
    try {
      CMSSignedDataGenerator g = new CMSSignedDataGenerator();
      g.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
          .build(keys.caSigner(), keys.caCert()));
      JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
      List<java.security.cert.X509Certificate> jca = new ArrayList<>();
      for (X509CertificateHolder h : certs) {
        jca.add(conv.getCertificate(h));
      }
      g.addCertificates(new JcaCertStore(jca));
      return g.generate(content, true).getEncoded("DER");
    } catch (CMSException | OperatorCreationException | IOException | CertificateEncodingException e) {
      throw new CaException(ErrorCode.INTERNAL, "cannot build " + what + ": " + e.getMessage(), e);
    } catch (CertificateException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "a stored certificate cannot be read: " + e.getMessage(), e);
    } catch (HsmException e) {
      throw HsmCalls.failure("cannot sign " + what + ": ", e);
    }
  }

  /** The current CA certificate (what signs receipts). */
  X509CertificateHolder caCert() {
    return keys.caCert();
  }

  private List<KeyBlob> blobs(Identity who, List<ArchiveStore.Row> rows) throws CaException {
    List<KeyBlob> out = new ArrayList<>();
    Instant now = clock.instant();
    int waiting = 0;
    for (ArchiveStore.Row row : rows) {
      if (row.issuer().equals(issuer) && unconfirmed(row.serial())) {
        waiting++; // the requester has not confirmed it: its certificate (and hash) is not given out yet
        continue;
      }
      out.add(new KeyBlob(row.serial(), row.subject(), row.threshold(), row.agents(), blob(row)));
      store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.KEY_GETKEY, "serial:" + hex(row.serial()),
          "subject=" + row.subject() + " threshold=" + row.threshold() + " agents=" + row.agents(), now));
    }
    if (out.isEmpty() && waiting > 0) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the archived key's certificate is waiting for its requester's "
          + "certConf: its key can be recovered once the certificate is confirmed (or, past its deadline, revoked)");
    }
    if (out.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "no archived key matches");
    }
    return out;
  }

  /**
   * Whether the archived key's certificate is this CA's and still waiting for its requester's certConf: its hash and
   * DER are not given out before that (for an encrCert request the hash is the proof of possession).
   */
  public boolean waitingForCertConf(ArchiveStore.Row row) throws CaException {
    return row.issuer().equals(issuer) && unconfirmed(row.serial());
  }

  private boolean unconfirmed(BigInteger serial) throws CaException {
    return store.inTransaction(tx -> tx.certificates().find(issuer, serial)).map(r -> r.status()
        == org.keyarc.ca.store.CertRecord.Status.UNCONFIRMED).orElse(false);
  }

  /** The recovery blob of {@code row}'s record: signed by the CA, with its certificate and its agents'. */
  byte[] blob(ArchiveStore.Row row) throws CaException {
    return blob(row.issuer(), row.serial(), row.record());
  }

  private byte[] blob(String rowIssuer, BigInteger serial, byte[] record) throws CaException {
    ArchiveRecord rec = ArchiveRecord.getInstance(record);
    List<X509CertificateHolder> certs = new ArrayList<>();
    certs.add(keys.caCert());
    store.inTransaction(tx -> {
      for (BigInteger s : certSerials(rec)) {
        // an UNCONFIRMED certificate is never given out before its certConf (its hash would be the confirmation)
        tx.certificates().find(issuer, s).filter(r -> r.status() != org.keyarc.ca.store.CertRecord.Status.UNCONFIRMED)
            .ifPresent(r -> certs.add(Encodings.certificate(r.der())));
      }
      if (!rowIssuer.equals(issuer)) { // an imported key of another CA's certificate: the one the record hashes
        byte[] ext = tx.archives().externalCertificate(rowIssuer, serial);
        if (ext != null) {
          certs.add(Encodings.certificate(ext));
        }
      }
      return null;
    });
    return signedByCa(new CMSProcessableByteArray(KeyarcCmp.ARCHIVE_RECORD, record), certs, "the recovery blob");
  }

  /**
   * getkey of the record an agent rotation replaced, kept until a drill of the new one passes: the way back when the
   * new agents cannot open the new record. Manager only, audited.
   */
  public KeyBlob previousKey(Identity who, BigInteger serial) throws CaException {
    Authorization.require(who, Role.MANAGER);
    ArchiveStore.Versions v = store.inTransaction(tx -> tx.archives().versions(issuer, serial));
    if (v == null || v.previous() == null) {
      throw new CaException(ErrorCode.NOT_FOUND, "certificate " + hex(serial) + " has no kept previous record (none "
          + "was rotated, or a drill proved the new one and it was dropped)");
    }
    ArchiveRecord rec = ArchiveRecord.getInstance(v.previous());
    byte[] blob = blob(issuer, serial, v.previous());
    Instant now = clock.instant();
    store.inTransaction(tx -> Audit.append(tx, who.actor(), AuditAction.KEY_GETKEY, "serial:" + hex(serial),
        "previous record (version " + (v.version() - 1) + ") threshold=" + rec.threshold() + " agents="
        + rec.agents().size(), now));
    String subject = store.inTransaction(tx -> tx.archives().bySerial(issuer, serial)).get(0).subject();
    return new KeyBlob(serial, subject, rec.threshold(), rec.agents().size(), blob);
  }



  /** The certificate of archived key {@code serial}, as this CA issued it. */
  X509CertificateHolder certificate(BigInteger serial) throws CaException {
    return store.inTransaction(tx -> tx.certificates().find(issuer, serial)).map(r -> Encodings.certificate(r.der()))
        .orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND, "no certificate " + hex(serial)));
  }

  /** The archive record of certificate {@code serial} (the first, as getkey lists them). */
  ArchiveRecord record(BigInteger serial) throws CaException {
    List<ArchiveStore.Row> rows = store.inTransaction(tx -> tx.archives().bySerial(issuer, serial));
    if (rows.isEmpty()) {
      throw new CaException(ErrorCode.NOT_FOUND, "no archived key for certificate " + hex(serial));
    }
    return ArchiveRecord.getInstance(rows.get(0).record());
  }

  private static List<BigInteger> certSerials(ArchiveRecord rec) {
    List<BigInteger> out = new ArrayList<>();
    out.add(rec.certificateSerial());
    rec.agents().forEach(a -> out.add(a.getSerialNumber().getValue()));
    return out;
  }
}
