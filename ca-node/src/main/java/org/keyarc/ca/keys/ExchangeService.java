package org.keyarc.ca.keys;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.config.NodeSettings;
import java.util.List;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.CaKeyStore;
import org.keyarc.ca.store.Store;
import org.keyarc.hsm.KeyHandle;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.HsmCalls;
import org.keyarc.hsm.HsmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA exchange certificate's life (like ADCS's CA_XCHG): a new exchange key and certificate when the
 * newest one is about to expire; old ones stay, to decrypt requests already in flight.
 */
public final class ExchangeService {
  private static final Logger LOG = LoggerFactory.getLogger(ExchangeService.class);

  private final Store store;
  private final CaKeyring keys;
  private final NodeSettings.Ca cfg;
  private final Clock clock;
  private final boolean softwareUnwrap;

  /** {@code softwareUnwrap}: archival.allowSoftwareUnwrap, under which new exchange keys may also decrypt. */
  public ExchangeService(Store store, CaKeyring keys, NodeSettings.Ca cfg, Clock clock, boolean softwareUnwrap) {
    this.store = store;
    this.keys = keys;
    this.cfg = cfg;
    this.clock = clock;
    this.softwareUnwrap = softwareUnwrap;
  }

  /**
   * Creates a new exchange key and certificate when the newest one expires within
   * {@code ca.exchangeRenewBeforeDays} (or there is none). Returns the new certificate, or empty when no
   * renewal was due.
   */
  public Optional<X509CertificateHolder> renewIfDue(String actor) throws CaException {
    Instant now = clock.instant();
    Optional<CaKeyring.Exchange> current = keys.currentExchange(now);
    if (current.isPresent() && current.get().cert().getNotAfter().toInstant()
        .isAfter(now.plus(cfg.exchangeRenewBefore()))) {
      return Optional.empty();
    }
    return Optional.of(renewNow(actor));
  }

  /** A new exchange key and certificate now (an operator's rotation, or after turning the software unwrap on). */
  public X509CertificateHolder renewNow(String actor) throws CaException {
    X509CertificateHolder cert = CaInit.newExchange(store, keys, cfg, actor, clock.instant(),
        softwareUnwrap);
    reload();
    LOG.info("new CA exchange certificate {} valid until {}", Digests.hex(cert.getSerialNumber()), cert.getNotAfter());
    return cert;
  }

  /**
   * Destroys, in the HSM, the private key of every exchange certificate that ended more than
   * {@code ca.exchangeRetireAfterDays} ago (requests encrypted to it are no longer accepted anyway), records it
   * retired and audits it: a recorded archival request plus the token's PIN no longer opens the user's key.
   * Returns how many were retired.
   */
  public int retireExpired(String actor) throws CaException {
    Instant now = clock.instant();
    List<CaKeyStore.Row> rows = store.inTransaction(tx -> tx.caKeys().list(CaKeyStore.Kind.EXCHANGE));
    int n = 0;
    for (CaKeyStore.Row r : rows) {
      if (r.retiredAt() != null) {
        continue;
      }
      Optional<CaKeyring.Exchange> verified = keys.exchanges().stream()
          .filter(e -> e.label().equals(r.keyLabel())).findFirst();
      if (verified.isEmpty()) {
        // not an exchange key the keyring verified (a store edit naming another key): nothing is destroyed
        LOG.error("exchange key row {} is not one of this CA's exchange keys: not retired, nothing destroyed",
            r.keyLabel());
        continue;
      }
      // the end date of the CA-signed certificate, never the row's not_after column: an edit of that column must not
      // get the current exchange key destroyed (and every archive under it lost)
      Instant notAfter = verified.get().cert().getNotAfter().toInstant();
      if (!notAfter.equals(r.notAfter())) {
        LOG.error("exchange key row {} says notAfter {} but its certificate says {} (the store was edited); the "
            + "certificate's date is used", r.keyLabel(), r.notAfter(), notAfter);
      }
      if (!notAfter.plus(cfg.exchangeRetireAfter()).isBefore(now)) {
        continue;
      }
      int destroyed = HsmCalls.call(() -> keys.exchangeToken().call(s -> {
        int d = 0;
        for (KeyHandle.KeyClass cls : new KeyHandle.KeyClass[] {KeyHandle.KeyClass.PRIVATE, KeyHandle.KeyClass.PUBLIC}) {
          KeyHandle h = s.findKeyOrNull(cls, r.keyLabel());
          if (h != null) {
            s.destroy(h);
            d++;
          }
        }
        return d;
      }));
      store.inTransaction(tx -> {
        tx.caKeys().retire(r.keyLabel(), now);
        Audit.append(tx, actor, AuditAction.CA_EXCHANGE_RETIRE, r.keyLabel(), "notAfter=" + notAfter
            + " objectsDestroyed=" + destroyed, now);
        return null;
      });
      LOG.info("exchange key {} (certificate ended {}) destroyed in the HSM", r.keyLabel(), notAfter);
      n++;
    }
    if (n > 0) {
      reload();
    }
    return n;
  }

  private void reload() throws CaException {
    try {
      keys.reloadExchanges(store);
    } catch (HsmException e) {
      throw HsmCalls.failure("cannot read the exchange keys: ", e);
    }
  }
}
