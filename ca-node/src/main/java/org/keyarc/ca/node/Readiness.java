package org.keyarc.ca.node;

import org.keyarc.ca.audit.AuditService;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.store.Store;
import org.keyarc.hsm.HsmToken;

/**
 * What {@code /health} answers: whether the node can serve, checked every {@link #CHECK_SECONDS} s on a thread
 * of its own (never on the request's event loop, and never holding up the node's timers) — the store answers a read, the CA token answers with the CA key's
 * attributes (a session, a login, the key), and the audit can be written ({@link AuditService#notReady}). The
 * reason names no secret and no store detail; those are in the log.
 */
final class Readiness {
  static final int CHECK_SECONDS = 2;

  private final Store store;
  private final HsmToken token;
  private final CaKeyring keys;
  private final AuditService audit;
  private volatile String problem;

  Readiness(Store store, HsmToken token, CaKeyring keys, AuditService audit) {
    this.store = store;
    this.token = token;
    this.keys = keys;
    this.audit = audit;
  }

  /** Runs the checks (on the timer thread). */
  void check() {
    String p;
    try {
      store.inTransaction(tx -> tx.audit().head());
      p = null;
    } catch (Exception e) {
      p = "the store does not answer";
    }
    if (p == null && token.sessionsInUse() < token.maxSessions()) { // all sessions busy: the token is working
      try {
        token.call(s -> s.attributes(keys.caKey()));
      } catch (Exception e) {
        p = "the CA token does not answer";
      }
    }
    problem = p;
  }

  /** Whether the node's own parts (store, token) answer; the audit's state aside. */
  boolean partsWork() {
    return problem == null;
  }

  /** Why the node should not take traffic now, or null. */
  String notReady() {
    String p = problem;
    return p != null ? p : audit.notReady();
  }
}
