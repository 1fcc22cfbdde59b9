package org.keyarc.ca.keys;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.keyarc.ca.CaException;
import org.keyarc.ca.config.NodeSettings;
import org.keyarc.ca.store.Store;
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

  public ExchangeService(Store store, CaKeyring keys, NodeSettings.Ca cfg, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.cfg = cfg;
    this.clock = clock;
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
    X509CertificateHolder cert = CaInit.newExchange(store, keys.token(), keys, cfg, actor, now);
    try {
      keys.reloadExchanges(store);
    } catch (HsmException e) {
      throw HsmCalls.failure("cannot read the new exchange key: ", e);
    }
    LOG.info("new CA exchange certificate {} valid until {}", Digests.hex(cert.getSerialNumber()), cert.getNotAfter());
    return Optional.of(cert);
  }
}
