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
 * The CMP responder key's life and the delegated OCSP signing key's, like the exchange key's ({@link ExchangeService}): a new key and certificate
 * when the current one expires within {@code ca.responderRenewBeforeDays}, or when there is none (a store made
 * before responder keys existed gets its first at node start). Old ones stay in the store and the token but no
 * longer sign.
 */
public final class ResponderService {
  private static final Logger LOG = LoggerFactory.getLogger(ResponderService.class);

  private final Store store;
  private final CaKeyring keys;
  private final NodeSettings.Ca cfg;
  private final Clock clock;

  public ResponderService(Store store, CaKeyring keys, NodeSettings.Ca cfg, Clock clock) {
    this.store = store;
    this.keys = keys;
    this.cfg = cfg;
    this.clock = clock;
  }

  /**
   * Makes a new CMP responder key when due, and a new delegated OCSP signing key when that one is due; returns
   * the new CMP responder certificate, or empty when none was due.
   */
  public Optional<X509CertificateHolder> renewIfDue(String actor) throws CaException {
    reload(); // another node on the same store may have renewed it already
    Optional<X509CertificateHolder> cmp = renew(actor, keys::currentResponder, CaInit::newResponder, "CMP responder");
    // an OCSP signer for each CA key still answering for what it issued (an older one after a rollover too)
    for (CaKeyring.Generation g : keys.live(clock.instant())) {
      renew(actor, now -> keys.currentOcspSigner(now, g.number()),
          (st, token, k, c, a, now) -> CaInit.newOcspSigner(st, token, k, g, c, a, now), "OCSP signing (" + g + ")");
    }
    return cmp;
  }

  private interface Maker {
    X509CertificateHolder make(Store store, org.keyarc.hsm.HsmToken token, CaKeyring keys, NodeSettings.Ca cfg,
        String actor, Instant now) throws CaException;
  }

  private Optional<X509CertificateHolder> renew(String actor,
      java.util.function.Function<Instant, Optional<CaKeyring.Responder>> current, Maker maker, String what)
      throws CaException {
    Instant now = clock.instant();
    Optional<CaKeyring.Responder> c = current.apply(now);
    if (c.isPresent() && c.get().cert().getNotAfter().toInstant().isAfter(now.plus(cfg.responderRenewBefore()))) {
      return Optional.empty();
    }
    X509CertificateHolder cert = maker.make(store, keys.token(), keys, cfg, actor, now);
    reload();
    LOG.info("new {} certificate {} valid until {}", what, Digests.hex(cert.getSerialNumber()), cert.getNotAfter());
    return Optional.of(cert);
  }

  private void reload() throws CaException {
    try {
      keys.reloadResponders(store);
    } catch (HsmException e) {
      throw HsmCalls.failure("cannot read the CMP responder key: ", e);
    }
  }
}
