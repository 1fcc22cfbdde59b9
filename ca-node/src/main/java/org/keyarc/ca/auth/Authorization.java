package org.keyarc.ca.auth;

import org.keyarc.ca.CaException;
import org.keyarc.ca.store.Role;
import org.keyarc.protocol.ErrorCode;

/**
 * The role checks every service makes on the node before it acts. A refusal is a CaException (NOT_AUTHORIZED);
 * the protocol edge writes its audit record ({@link IdentityService#auditRefusal}), one place for all of them.
 */
public final class Authorization {
  private Authorization() {}

  /** Refuses with NOT_AUTHORIZED unless {@code who} holds one of {@code anyOf}. */
  public static void require(Identity who, Role... anyOf) throws CaException {
    for (Role r : anyOf) {
      if (who.has(r)) {
        return;
      }
    }
    StringBuilder names = new StringBuilder();
    for (Role r : anyOf) {
      names.append(names.length() == 0 ? "" : " or ").append(r.label());
    }
    throw new CaException(ErrorCode.NOT_AUTHORIZED, who.actor() + " is not a " + names + " on this CA");
  }
}
