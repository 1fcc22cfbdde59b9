package org.keyarc.ca.audit.log;

import java.time.Instant;
import org.keyarc.ca.store.StoreException;
import org.keyarc.ca.store.StoreTx;

/** Appends audit records inside the change's own unit of work: the change and its record commit together. */
public final class Audit {
  /** The actor of what the node does by itself (timers, start-up). */
  public static final String NODE = "ca-node";
  /** The actor of the local ceremonies at the CA host (ca init, ca import-cert). */
  public static final String LOCAL_OPERATOR = "local-operator";
  /**
   * The label of the CA token's data object that remembers the last audit checkpoint ({@code audit.AuditAnchor});
   * here, below every service, because {@code keys/CaInit} resets it when a new CA starts.
   */
  public static final String ANCHOR_LABEL = "keyarc-audit-anchor";

  private Audit() {}

  /** Appends one record; if it cannot be written the whole unit of work fails (invariant 6). */
  public static long append(StoreTx tx, String actor, AuditAction action, String target, String detail, Instant at)
      throws StoreException {
    return tx.audit().append(actor, action.id(), target, detail, at);
  }
}
