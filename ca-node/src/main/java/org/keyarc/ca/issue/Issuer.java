package org.keyarc.ca.issue;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.AuditGuard;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.keys.CertFactory;
import org.keyarc.ca.keys.SerialNumbers;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.StoreTx;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Encodings;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.ca.template.Template;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.keyarc.ca.support.Digests.hex;

/**
 * Signs a certificate in the HSM, then stores it with its audit record (and whatever the caller adds: the
 * archive, the secret's use, the approval) in one unit of work on the group-commit path. A serial clash
 * (never expected with 159-bit random serials) draws another serial.
 */
public final class Issuer {
  private static final Logger LOG = LoggerFactory.getLogger(Issuer.class);
  /**
   * Where a unit of work refused by a unique constraint is looked into (and, on a serial clash, signed again): off the
   * commit thread, on threads made when needed and gone after 30 s idle.
   */
  private static final java.util.concurrent.Executor SERIAL_RETRY = new java.util.concurrent.ThreadPoolExecutor(0, 1,
      30, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
        Thread th = new Thread(r, "keyarc-serial-retry");
        th.setDaemon(true);
        return th;
      });

  private final Store store;
  private final CaKeyring keys;
  private final Clock clock;
  private final org.keyarc.ca.keys.CertFactory.Links links;
  private final java.util.function.ToIntFunction<String> templateVersion;
  private final Duration confirmTimeout;
  private final Duration collectTimeout;
  private final SerialNumbers serials = new SerialNumbers();
  private final String issuer;
  private final AuditGuard guard;

  public Issuer(Store store, CaKeyring keys, Clock clock, org.keyarc.ca.keys.CertFactory.Links links,
      Duration confirmTimeout, Duration collectTimeout, AuditGuard guard,
      java.util.function.ToIntFunction<String> templateVersion) {
    this.collectTimeout = collectTimeout;
    this.templateVersion = templateVersion;
    this.guard = guard;
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.links = links;
    this.confirmTimeout = confirmTimeout;
    this.issuer = keys.caName().toString();
  }

  /** Extra work in the issuing unit of work, given the new certificate. */
  @FunctionalInterface
  public interface TxHook {
    void run(StoreTx tx, X509CertificateHolder cert) throws CaException;
  }

  public Instant now() {
    return clock.instant();
  }

  /** Refuses with AUDIT_HALTED while the node has stopped issuing (its audit log was rolled back). */
  public void checkIssuing() throws CaException {
    guard.check();
  }

  /**
   * Until when a certificate approved at {@code now} for a key that proves possession by decrypting it waits to be
   * collected (its first delivery then starts the shorter {@link #confirmDeadline}); after it the node revokes it.
   */
  public Instant collectionDeadline(Instant now) {
    return now.plus(collectTimeout);
  }

  /** When a certificate delivered at {@code now} must be confirmed. */
  public Instant confirmDeadline(Instant now) {
    return now.plus(confirmTimeout);
  }

  /**
   * Signs in the HSM, then stores certificate + audit (+ hook) in one unit of work; retries a serial clash.
   * {@code requester} is the principal that started the transaction (only it may confirm, reject or poll it),
   * {@code origin} who vouched for it (both stored with the certificate).
   */
  public X509CertificateHolder issueAndStore(String actor, Template t, X500Name subject, SubjectPublicKeyInfo spki,
      GeneralNames sans, CertRecord.Status status, Long requestId, String transaction, String requester, String origin,
      Instant now, TxHook hook) throws CaException {
    return issueAndStore(actor, t, subject, spki, sans, status, status == CertRecord.Status.UNCONFIRMED
        ? now.plus(confirmTimeout) : null, null, requestId, transaction, requester, origin, now, hook);
  }

  /**
   * Like {@link #issueAndStore(String, Template, X500Name, SubjectPublicKeyInfo, GeneralNames, CertRecord.Status,
   * Long, String, String, String, Instant, TxHook)} with the certConf deadline given: the {@link #collectionDeadline}
   * for an UNCONFIRMED certificate whose certConf clock starts when it is first delivered ({@link #confirmDeadline});
   * {@code oaepSha256}
   * non-null lists the RSA-OAEP the key's token decrypts in the certificate (a recovery agent's card).
   */
  public X509CertificateHolder issueAndStore(String actor, Template t, X500Name subject, SubjectPublicKeyInfo spki,
      GeneralNames sans, CertRecord.Status status, Instant confirmDeadline, Boolean oaepSha256, Long requestId,
      String transaction, String requester, String origin, Instant now, TxHook hook) throws CaException {
    return org.keyarc.ca.support.Futures.join(issueAndStoreAsync(actor, t, subject, spki, sans, status,
        confirmDeadline, oaepSha256, requestId, transaction, requester, origin, now, hook));
  }

  /**
   * {@link #issueAndStore(String, Template, X500Name, SubjectPublicKeyInfo, GeneralNames, CertRecord.Status, Instant,
   * Boolean, Long, String, String, String, Instant, TxHook)} without waiting for the commit: signs in the HSM on the
   * caller's thread, then the future completes once the certificate, its audit record and the hook's work are
   * committed (on the commit thread), or fails with what refused it. Nothing waits on the disk meanwhile.
   */
  public java.util.concurrent.CompletableFuture<X509CertificateHolder> issueAndStoreAsync(String actor, Template t,
      X500Name subject, SubjectPublicKeyInfo spki, GeneralNames sans, CertRecord.Status status,
      Instant confirmDeadline, Boolean oaepSha256, Long requestId, String transaction, String requester,
      String origin, Instant now, TxHook hook) {
    try {
      guard.check();
    } catch (CaException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    return attempt(0, actor, t, subject, spki, sans, status, confirmDeadline, oaepSha256, requestId, transaction,
        requester, origin, now, hook);
  }

  private java.util.concurrent.CompletableFuture<X509CertificateHolder> attempt(int attempt, String actor, Template t,
      X500Name subject, SubjectPublicKeyInfo spki, GeneralNames sans, CertRecord.Status status,
      Instant confirmDeadline, Boolean oaepSha256, Long requestId, String transaction, String requester,
      String origin, Instant now, TxHook hook) {
    BigInteger serial = serials.next();
    CaKeyring.Generation ca = keys.current(); // one CA key signs it and is recorded with it
    X509CertificateHolder cert;
    try {
      cert = sign(ca, t, subject, spki, sans, serial, now, oaepSha256);
    } catch (CaException | RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    byte[] der = Encodings.der(cert);
    CertRecord rec = new CertRecord(issuer, serial, subject.toString(), t.name(),
        cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant(), status,
        confirmDeadline, null, null, requestId,
        Digests.sha256Hex(der), now, der, transaction, requester, origin);
    return store.inGroupTransactionAsync(tx -> {
      if (hook != null) {
        hook.run(tx, cert);
      }
      int version = templateVersion.applyAsInt(t.name());
      tx.certificates().insert(rec, version, ca.number());
      Audit.append(tx, actor, AuditAction.CERT_ISSUE, "serial:" + hex(serial),
          "template=" + t.name() + (version > 0 ? " templateVersion=" + version : "") + " subject=" + subject
          + " status=" + status, now);
      return cert;
    }).exceptionallyCompose(failure -> {
      // on the commit thread: only a constraint violation (a serial clash, never expected with 159-bit random
      // serials) is looked into, and that on SERIAL_RETRY, away from the commit thread; anything else fails as it is
      Throwable e = org.keyarc.ca.support.Futures.cause(failure);
      if (attempt >= 2 || !(e instanceof StoreException se && se.isConstraintViolation())) {
        return java.util.concurrent.CompletableFuture.failedFuture(e);
      }
      return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          if (store.inTransaction(tx -> tx.certificates().find(issuer, serial)).isPresent()) {
            LOG.warn("serial collision on {}; drawing another", hex(serial));
            return attempt(attempt + 1, actor, t, subject, spki, sans, status, confirmDeadline, oaepSha256,
                requestId, transaction, requester, origin, now, hook);
          }
        } catch (CaException | RuntimeException lookup) {
          e.addSuppressed(lookup);
        }
        return java.util.concurrent.CompletableFuture.<X509CertificateHolder>failedFuture(e);
      }, SERIAL_RETRY).thenCompose(f -> f);
    });
  }

  private X509CertificateHolder sign(CaKeyring.Generation ca, Template t, X500Name subject, SubjectPublicKeyInfo spki,
      GeneralNames sans, BigInteger serial, Instant now, Boolean oaepSha256) throws CaException {
    // a certificate with this CA's own name (a self-issued one, which path validation treats apart) or a key of its
    if (subject.equals(ca.cert().getSubject())) {
      throw new CaException(ErrorCode.BAD_SUBJECT, "the subject " + subject + " is this CA's own name");
    }
    // (a CA, exchange, responder or OCSP key: a second certificate would let others take it for someone else's)
    java.util.Optional<String> own = keys.nodeKeyRole(spki);
    if (own.isPresent()) {
      throw new CaException(ErrorCode.KEY_NOT_ALLOWED, "the public key is " + own.get());
    }
    try {
      return CertFactory.issued(ca.cert(), t, subject, spki, sans, serial, now, links.of(ca.number()), oaepSha256,
          HsmCalls.call(() -> keys.signer(ca)));
    } catch (IllegalArgumentException e) { // a CA certificate this CA's own constraints do not allow
      throw new CaException(ErrorCode.BAD_REQUEST, e.getMessage());
    } catch (CertIOException e) {
      throw new CaException(ErrorCode.BAD_REQUEST, "the subjectAltNames cannot be encoded: " + e.getMessage());
    }
  }
}
