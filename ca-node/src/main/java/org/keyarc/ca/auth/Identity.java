package org.keyarc.ca.auth;

import java.util.Set;
import org.keyarc.ca.store.Role;

/**
 * Who sent a request, as the node established it: the subject of a certificate this CA issued (from a
 * signature-protected message or a TLS client certificate) with its roles, or the reference of a
 * one-time secret (MAC-protected message), or the local operator who holds the CA token's PIN.
 */
public record Identity(Kind kind, String name, Set<Role> roles) {
  public enum Kind { CERTIFICATE, SECRET, LOCAL_OPERATOR }

  /** The operator at the CA host who unlocked the CA token (ca init, ca import-cert). */
  public static Identity localOperator() {
    return new Identity(Kind.LOCAL_OPERATOR, "local-operator", Set.of(Role.ADMINISTRATOR));
  }

  public boolean has(Role role) {
    return roles.contains(role);
  }

  /** The actor string written to the audit log. */
  public String actor() {
    return switch (kind) {
      case CERTIFICATE -> name;
      case SECRET -> "secret:" + name;
      case LOCAL_OPERATOR -> "local-operator";
    };
  }
}
