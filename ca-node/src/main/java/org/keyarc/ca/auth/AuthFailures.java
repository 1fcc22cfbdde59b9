package org.keyarc.ca.auth;

import java.time.Clock;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.AuditBacklog;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;

/**
 * What the node does about failed authentication on the wire: each failure is audited (with the peer's address
 * and the reference or signer it claimed) and taken from the failure budgets of the peer and of the reference
 * ({@link RateLimiter}); a peer or reference whose budget is spent is refused with {@link
 * ErrorCode#RATE_LIMITED} before any work, and that is audited once per minute, not per request.
 */
public final class AuthFailures {
  /** Audit details are cut here: a sender cannot make its own failure's record too long to write. */
  private static final int MAX_DETAIL = 1000;

  private final AuditBacklog backlog;
  private final Clock clock;
  private final RateLimiter peers;
  private final RateLimiter references;

  /** {@code backlog} writes the failures' audit records, or keeps them while the store fails. */
  public AuthFailures(AuditBacklog backlog, Clock clock, RateLimiter peers, RateLimiter references) {
    this.backlog = backlog;
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

  /**
   * Refuses every request, before any work, while the audit records of earlier refusals fill the backlog: a new
   * refusal could not be audited.
   */
  public void checkAuditRoom() throws CaException {
    backlog.requireRoom();
  }

  private void audit(AuditAction action, String peer, String target, String detail) {
    String d = detail.replaceAll("[^\\x20-\\x7e]", "?");
    String bounded = d.length() > MAX_DETAIL ? d.substring(0, MAX_DETAIL) + "..." : d;
    backlog.append("peer:" + peer, action, Texts.printable(target), bounded, clock.instant());
  }
}
