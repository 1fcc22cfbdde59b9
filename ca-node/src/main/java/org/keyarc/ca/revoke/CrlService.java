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

/** CRL publication: numbered, signed in the HSM and stored in one go; the current CRL for clients. */
public final class CrlService {
  private static final Logger LOG = LoggerFactory.getLogger(CrlService.class);

  private final Store store;
  private final CaKeyring keys;
  private final Clock clock;
  private final Duration validity;

  public CrlService(Store store, CaKeyring keys, Clock clock, Duration validity) {
    this.store = store;
    this.keys = keys;
    this.clock = clock;
    this.validity = validity;
  }

  /** Signs and stores a new CRL of every revoked, unexpired certificate. */
  public X509CRLHolder publish(String actor) throws CaException {
    String issuer = keys.caName().toString();
    // lock, read, number, sign and store in one unit of work: nodes publishing at once take turns, and each CRL
    // holds every revocation committed before it (issue 16)
    return store.inTransaction(tx -> {
      tx.crls().lockPublication();
      // after the lock, and never before the last CRL's (nodes' clocks differ): thisUpdate never goes back
      Instant now = clock.instant();
      Optional<CrlStore.Row> last = tx.crls().latest();
      if (last.isPresent() && last.get().thisUpdate().isAfter(now)) {
        now = last.get().thisUpdate();
      }
      Instant thisUpdate = now;
      List<CertRecord> revoked = tx.certificates().revokedUnexpired(issuer, thisUpdate);
      long number = tx.crls().nextNumber();
      X509CRLHolder crl;
      byte[] der;
      try {
        crl = CertFactory.crl(keys.caCert(), revoked, number, thisUpdate, thisUpdate.plus(validity), keys.caSigner());
        der = crl.getEncoded();
      } catch (HsmException e) {
        throw HsmCalls.failure("cannot sign the CRL: ", e);
      } catch (IOException e) {
        throw new CaException(ErrorCode.INTERNAL, "cannot encode the CRL: " + e.getMessage(), e);
      }
      tx.crls().insert(new CrlStore.Row(number, thisUpdate, thisUpdate.plus(validity), der));
      Audit.append(tx, actor, AuditAction.CRL_PUBLISH, "crl:" + number, "entries=" + revoked.size(), thisUpdate);
      return crl;
    });
  }

  /** {@link #publish} by the node itself; a failure is logged, the next timer run tries again. */
  public void publishQuietly() {
    try {
      publish(Audit.NODE);
    } catch (CaException e) {
      LOG.warn("CRL not published: {}", e.getMessage());
    }
  }

  /** The newest CRL, published now if there is none or it has expired. */
  public X509CRLHolder current() throws CaException {
    Optional<CrlStore.Row> row = store.inTransaction(tx -> tx.crls().latest());
    if (row.isEmpty() || !row.get().nextUpdate().isAfter(clock.instant())) {
      return publish(Audit.NODE);
    }
    try {
      return new X509CRLHolder(row.get().der());
    } catch (IOException e) {
      throw new CaException(ErrorCode.STORE_ERROR, "the stored CRL " + row.get().number() + " does not parse", e);
    }
  }
}
