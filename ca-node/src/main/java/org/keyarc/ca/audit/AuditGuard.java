package org.keyarc.ca.audit;

import org.keyarc.ca.CaException;
import org.keyarc.protocol.ErrorCode;

/**
 * Fail closed (NIAP FAU_STG.5): once the node finds its audit log rolled back, cut or rewritten, it stops issuing
 * until an administrator acknowledges the finding ({@code keyarc audit acknowledge}). One per node.
 */
public final class AuditGuard {
  private volatile String halted;

  /** Refuses with AUDIT_HALTED while the node is halted. */
  public void check() throws CaException {
    String why = halted;
    if (why != null) {
      throw new CaException(ErrorCode.AUDIT_HALTED, "the CA stopped issuing: " + why + "; an administrator must "
          + "investigate and run 'keyarc audit acknowledge'");
    }
  }

  /** Why the node is halted, or null. */
  public String reason() {
    return halted;
  }

  void halt(String why) {
    halted = why;
  }

  void resume() {
    halted = null;
  }
}
