package org.keyarc.ca.auth;

import java.time.Clock;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node does about failed authentication on the wire: each failure is audited (with the peer's address
 * and the reference or signer it claimed) and taken from the failure budgets of the peer and of the reference
 * ({@link RateLimiter}); a peer or reference whose budget is spent is refused with {@link
 * ErrorCode#RATE_LIMITED} before any work, and that is audited once per minute, not per request.
 */
public final class AuthFailures {
  private static final Logger LOG = LoggerFactory.getLogger(AuthFailures.class);
  /** Audit details are cut here: a sender cannot make its own failure's record too long to write. */
  private static final int MAX_DETAIL = 1000;

  private final Store store;
  private final Clock clock;
  private final RateLimiter peers;
  private final RateLimiter references;

  public AuthFailures(Store store, Clock clock, RateLimiter peers, RateLimiter references) {
    this.store = store;
    this.clock = clock;
    this.peers = peers;
    this.references = references;
  }

  /** Refuses the request when {@code peer} has spent its failure budget. */
  public void checkPeer(String peer) throws CaException {
    if (peers.exhausted(peer)) {
      if (peers.firstRefusalInWindow(peer)) {
        audit(AuditAction.AUTH_RATE_LIMITED, peer, "peer:" + peer, "peer=" + peer
            + " too many failed authentications; refused until its budget refills");
      }
      throw new CaException(ErrorCode.RATE_LIMITED, "too many failed authentications from " + peer
          + "; try again in a minute");
    }
  }

  /** Refuses the request when the one-time secret {@code reference} has spent its failure budget. */
  public void checkReference(String reference, String peer) throws CaException {
    if (references.exhausted(reference)) {
      if (references.firstRefusalInWindow(reference)) {
        audit(AuditAction.AUTH_RATE_LIMITED, peer, "secret:" + reference, "peer=" + peer
            + " too many failed authentications with this reference; refused until its budget refills");
      }
      throw new CaException(ErrorCode.RATE_LIMITED, "too many failed authentications with reference "
          + reference + "; try again in a minute");
    }
  }

  /**
   * Records a failed authentication: audited as {@code action} on {@code target} (made printable and short)
   * with {@code detail} (and the peer; made printable and cut at 1,000 characters), charged to the peer and,
   * when not null, to {@code reference}.
   */
  public void record(AuditAction action, String peer, String target, String reference, String detail) {
    audit(action, peer, target, "peer=" + peer + " " + detail);
    charge(peer, reference);
  }

  /** Charges a failure to the peer and, when not null, to {@code reference}, without an audit record. */
  public void charge(String peer, String reference) {
    peers.fail(peer);
    if (reference != null) {
      references.fail(reference);
    }
  }

  private void audit(AuditAction action, String peer, String target, String detail) {
    try {
      String d = detail.replaceAll("[^\\x20-\\x7e]", "?");
      String bounded = d.length() > MAX_DETAIL ? d.substring(0, MAX_DETAIL) + "..." : d;
      store.inTransaction(tx -> Audit.append(tx, "peer:" + peer, action, Texts.printable(target), bounded,
          clock.instant()));
    } catch (CaException e) {
      // the refusal goes out all the same; the store's own failure is the operator's alarm
      LOG.warn("cannot audit {} from {}: {}", action, peer, e.getMessage());
    }
  }
}
