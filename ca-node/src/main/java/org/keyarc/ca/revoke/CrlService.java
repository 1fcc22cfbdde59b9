package org.keyarc.ca.revoke;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CRLHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.keys.CertFactory;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.CrlStore;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.hsm.HsmException;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CRL publication: numbered, signed in the HSM and stored in one go; the current CRL for clients. Each live
 * generation of the CA key ({@link CaKeyring#live}) publishes its own CRLs at its own URL ({@code /crl} for the
 * first, {@code /crl/N} for key N); all share one sequence of CRL numbers, and each lists every revoked certificate
 * of the CA's name, whichever key signed it: a relying party may take any of them for any certificate of this name
 * (RFC 5280 6.3.3 accepts a CRL of the same issuer name whose path reaches the trust anchor, which the rollover's
 * cross-certificates give), so none may leave a revocation out.
 */
public final class CrlService {
  private static final Logger LOG = LoggerFactory.getLogger(CrlService.class);

  private final Store store;
  private final CaKeyring keys;
  private final Clock clock;
  private final Duration validity;
  private final Duration deltaInterval;
  private final String deltaUrl;

  public CrlService(Store store, CaKeyring keys, Clock clock, Duration validity) {
    this(store, keys, clock, validity, Duration.ZERO, null);
  }

  /**
   * {@code deltaInterval}: how often delta CRLs are published (zero: never); {@code deltaUrl}: where they are
   * served, named in each complete CRL's freshestCRL (null: not named).
   */
  public CrlService(Store store, CaKeyring keys, Clock clock, Duration validity, Duration deltaInterval,
      String deltaUrl) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.validity = validity;
    this.deltaInterval = deltaInterval;
    this.deltaUrl = deltaInterval.isZero() ? null : deltaUrl;
  }

  /** Whether delta CRLs are published. */
  public boolean deltas() {
    return !deltaInterval.isZero();
  }

  /**
   * Signs and stores a new CRL for each live CA key, of every revoked, unexpired certificate it signed; returns the
   * current key's.
   */
  public X509CRLHolder publish(String actor) throws CaException {
    X509CRLHolder out = null;
    for (CaKeyring.Generation g : keys.answering(clock.instant())) {
      X509CRLHolder crl = publish(actor, g);
      if (g.equals(keys.current())) {
        out = crl;
      }
    }
    return out;
  }

  /** Signs and stores a new CRL of every revoked, unexpired certificate the CA key {@code g} signed. */
  private X509CRLHolder publish(String actor, CaKeyring.Generation g) throws CaException {
    String issuer = keys.caName().toString();
    // lock, read, number, sign and store in one unit of work: nodes publishing at once take turns, and each CRL
    // holds every revocation committed before it (issue 16)
    return store.inTransaction(tx -> {
      tx.crls().lockPublication();
      // after the lock, and never before the last CRL's (nodes' clocks differ): thisUpdate never goes back
      Instant thisUpdate = thisUpdate(tx);
      List<CertRecord> revoked = tx.certificates().revokedUnexpired(issuer, thisUpdate); // of every CA key
      long number = tx.crls().nextNumber();
      X509CRLHolder crl;
      byte[] der;
      try {
        crl = CertFactory.crl(g.cert(), revoked, number, thisUpdate, thisUpdate.plus(validity), null,
            CertFactory.Links.generationUrl(deltaUrl, g.number()), keys.signer(g));
        der = crl.getEncoded();
      } catch (HsmException e) {
        throw HsmCalls.failure("cannot sign the CRL: ", e);
      } catch (IOException e) {
        throw new CaException(ErrorCode.INTERNAL, "cannot encode the CRL: " + e.getMessage(), e);
      }
      tx.crls().insert(new CrlStore.Row(number, thisUpdate, thisUpdate.plus(validity), der, null, g.number()));
      Audit.append(tx, actor, AuditAction.CRL_PUBLISH, "crl:" + number, "entries=" + revoked.size()
          + (g.number() == 0 ? "" : " caKey=" + g.number()), thisUpdate);
      return crl;
    });
  }

  /** Now, after the publication lock, and never before the newest CRL's (nodes' clocks differ). */
  private Instant thisUpdate(org.keyarc.ca.store.StoreTx tx) throws CaException {
    Instant now = clock.instant();
    for (Optional<CrlStore.Row> last : List.of(tx.crls().latest(-1), tx.crls().latestDelta(-1))) {
      if (last.isPresent() && last.get().thisUpdate().isAfter(now)) {
        now = last.get().thisUpdate();
      }
    }
    return now;
  }

  /**
   * Signs and stores a delta CRL (RFC 5280 5.2.4) over the oldest complete CRL still valid for at least one delta
   * interval: every revoked, unexpired certificate that CRL does not list — read from the complete CRL itself, so that a revocation committed while it was being
   * made is not lost between the two. Numbered in the same sequence as complete CRLs, valid for two delta
   * intervals, at most as long as its base. A complete CRL is published instead when none is valid that long (none
   * yet, or the nodes were down), so a delta never comes out already expired.
   */
  public X509CRLHolder publishDelta(String actor) throws CaException {
    if (!deltas()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "delta CRLs are off (timers.deltaCrlMinutes is 0)");
    }
    X509CRLHolder out = null;
    for (CaKeyring.Generation g : keys.answering(clock.instant())) {
      X509CRLHolder crl = publishDelta(actor, g);
      if (g.equals(keys.current())) {
        out = crl;
      }
    }
    return out;
  }

  private X509CRLHolder publishDelta(String actor, CaKeyring.Generation g) throws CaException {
    String issuer = keys.caName().toString();
    Optional<X509CRLHolder> made = store.inTransaction(tx -> {
      tx.crls().lockPublication();
      Instant thisUpdate = thisUpdate(tx);
      // the base: the oldest complete CRL still valid, so that a relying party holding any valid complete CRL can
      // use this delta (its number is at least the base's); none valid long enough: a complete CRL instead
      Optional<CrlStore.Row> base = tx.crls().oldestValid(g.number(), thisUpdate.plus(deltaInterval));
      if (base.isEmpty()) {
        return Optional.empty();
      }
      java.util.Set<java.math.BigInteger> listed = new java.util.HashSet<>();
      try {
        for (Object e : new X509CRLHolder(base.get().der()).getRevokedCertificates()) {
          listed.add(((org.bouncycastle.cert.X509CRLEntryHolder) e).getSerialNumber());
        }
      } catch (IOException e) {
        throw new CaException(ErrorCode.STORE_ERROR, "the stored CRL " + base.get().number() + " does not parse", e);
      }
      List<CertRecord> revoked = tx.certificates().revokedUnexpired(issuer, thisUpdate).stream()
          .filter(r -> !listed.contains(r.serial())).toList();
      long number = tx.crls().nextNumber();
      Instant nextUpdate = thisUpdate.plus(deltaInterval.multipliedBy(2));
      if (nextUpdate.isAfter(base.get().nextUpdate())) {
        nextUpdate = base.get().nextUpdate();
      }
      X509CRLHolder crl;
      try {
        crl = CertFactory.crl(g.cert(), revoked, number, thisUpdate, nextUpdate, base.get().number(), null,
            keys.signer(g));
        tx.crls().insert(new CrlStore.Row(number, thisUpdate, nextUpdate, crl.getEncoded(), base.get().number(),
            g.number()));
      } catch (HsmException e) {
        throw HsmCalls.failure("cannot sign the delta CRL: ", e);
      } catch (IOException e) {
        throw new CaException(ErrorCode.INTERNAL, "cannot encode the delta CRL: " + e.getMessage(), e);
      }
      Audit.append(tx, actor, AuditAction.CRL_PUBLISH, "crl:" + number, "delta base=" + base.get().number()
          + " entries=" + revoked.size() + (g.number() == 0 ? "" : " caKey=" + g.number()), thisUpdate);
      return Optional.of(crl);
    });
    return made.isPresent() ? made.get() : publish(actor, g);
  }

  /**
   * The newest delta CRL of CA key {@code generation}, published now if there is none or it has expired; delta CRLs
   * off: BAD_REQUEST; a key that does not exist or whose certificate has ended: NOT_FOUND.
   */
  public X509CRLHolder currentDelta(int generation) throws CaException {
    if (!deltas()) {
      throw new CaException(ErrorCode.BAD_REQUEST, "this CA publishes no delta CRLs");
    }
    CaKeyring.Generation g = live(generation);
    Optional<CrlStore.Row> row = store.inTransaction(tx -> tx.crls().latestDelta(generation));
    if (row.isEmpty() || !row.get().nextUpdate().isAfter(clock.instant())) {
      X509CRLHolder made = publishDelta(Audit.NODE, g);
      if (made.getExtension(org.bouncycastle.asn1.x509.Extension.deltaCRLIndicator) != null) {
        return made;
      }
      return publishDelta(Audit.NODE, g); // there was no complete CRL to be a delta of: now there is
    }
    try {
      return new X509CRLHolder(row.get().der());
    } catch (IOException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored CRL " + row.get().number() + " does not parse", e);
    }
  }

  /** {@link #publish} by the node itself; a failure is logged, the next timer run tries again. */
  public void publishQuietly() {
    try {
      publish(Audit.NODE);
    } catch (CaException e) {
      LOG.warn("CRL not published: {}", e.getMessage());
    }
  }

  /** The current CA key's newest CRL (what CMP's currentCRL answers), published now if there is none or it expired. */
  public X509CRLHolder current() throws CaException {
    return current(keys.current().number());
  }

  /**
   * The newest complete CRL of CA key {@code generation}, published now if there is none or it has expired; a key
   * that does not exist or whose certificate has ended: NOT_FOUND.
   */
  public X509CRLHolder current(int generation) throws CaException {
    CaKeyring.Generation g = live(generation);
    Optional<CrlStore.Row> row = store.inTransaction(tx -> tx.crls().latest(generation));
    if (row.isEmpty() || !row.get().nextUpdate().isAfter(clock.instant())) {
      return publish(Audit.NODE, g);
    }
    try {
      return new X509CRLHolder(row.get().der());
    } catch (IOException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored CRL " + row.get().number() + " does not parse", e);
    }
  }

  /** CA key {@code generation}, if its certificate has not ended; else NOT_FOUND. */
  private CaKeyring.Generation live(int generation) throws CaException {
    CaKeyring.Generation g = keys.generation(generation).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
        "this CA has no key " + generation));
    if (!keys.answering(clock.instant()).contains(g)) {
      throw new CaException(ErrorCode.NOT_FOUND, "the certificate of CA key " + generation + " has ended ("
          + g.cert().getNotAfter().toInstant() + "): it publishes no more CRLs");
    }
    return g;
  }
}
