package org.keyarc.ca.auth;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.RoleStore;
import org.keyarc.ca.store.Store;
import org.keyarc.protocol.ErrorCode;

/**
 * Roles and role separation: an administrator grants and revokes them; with separation on, one identity
 * cannot hold two of administrator, manager and auditor, nor both manager and recovery agent.
 */
public final class RoleService {
  private static final Set<Role> SEPARATED = Set.of(Role.ADMINISTRATOR, Role.MANAGER, Role.AUDITOR);

  private final Store store;
  private final Clock clock;
  private final boolean roleSeparation;

  public RoleService(Store store, Clock clock, boolean roleSeparation) {
    this.store = store;
    this.clock = clock;
    this.roleSeparation = roleSeparation;
  }

  /** Grants a role to a subject. Administrator only; role separation refuses a second separated role. */
  public void grant(Identity who, String subject, Role role) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    String normalized = new X500Name(subject).toString();
    store.inTransaction(tx -> {
      Set<Role> held = tx.roles().rolesOf(normalized);
      if (roleSeparation) {
        for (Role r : held) {
          boolean bothSeparated = SEPARATED.contains(role) && SEPARATED.contains(r);
          // a manager fetches blobs, an agent opens them: one identity must not do both
          boolean fetchAndOpen = Set.of(role, r).equals(Set.of(Role.MANAGER, Role.RECOVERY_AGENT));
          if (r != role && (bothSeparated || fetchAndOpen)) {
            throw new CaException(ErrorCode.ROLE_CONFLICT, normalized + " already holds " + r.label()
                + "; with role separation on, one identity cannot also be " + role.label());
          }
        }
      }
      if (tx.roles().grant(normalized, role, who.actor(), now)) {
        Audit.append(tx, who.actor(), AuditAction.ROLE_GRANT, normalized, "role=" + role.name(), now);
      }
      return null;
    });
  }

  /** Removes a role. Administrator only. */
  public void revoke(Identity who, String subject, Role role) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR);
    Instant now = clock.instant();
    String normalized = new X500Name(subject).toString();
    boolean removed = store.inTransaction(tx -> {
      boolean r = tx.roles().revoke(normalized, role);
      if (r) {
        Audit.append(tx, who.actor(), AuditAction.ROLE_REVOKE, normalized, "role=" + role.name(), now);
      }
      return r;
    });
    if (!removed) {
      throw new CaException(ErrorCode.NOT_FOUND, normalized + " does not hold " + role.name().toLowerCase());
    }
  }

  /** Every role member. Administrator or auditor. */
  public List<RoleStore.Member> list(Identity who) throws CaException {
    Authorization.require(who, Role.ADMINISTRATOR, Role.AUDITOR);
    return store.inTransaction(tx -> tx.roles().list());
  }
}
