package org.keyarc.ca.audit.log;

/**
 * Every action the audit log records, with the identifier stored in {@code audit_record.action} (stable:
 * the chain's hashes cover it, and auditors search for it).
 */
public enum AuditAction {
  CA_INIT("ca.init"),
  CA_IMPORT_CERT("ca.import-cert"),
  CA_EXCHANGE("ca.exchange"),
  CONFIG_CHANGE("config.change"),
  SECRET_CREATE("secret.create"),
  REQUEST_PENDING("request.pending"),
  REQUEST_APPROVE("request.approve"),
  REQUEST_DENY("request.deny"),
  CERT_ISSUE("cert.issue"),
  CERT_CONFIRM("cert.confirm"),
  CERT_REVOKE("cert.revoke"),
  CRL_PUBLISH("crl.publish"),
  ROLE_GRANT("role.grant"),
  ROLE_REVOKE("role.revoke"),
  KRA_ADD("kra.add"),
  KRA_REMOVE("kra.remove"),
  KRA_POLICY("kra.policy"),
  KEY_ARCHIVE("key.archive"),
  KEY_ARCHIVE_REFUSED("key.archive.refused"),
  KEY_GETKEY("key.getkey"),
  RECOVERY_OPEN("recovery.open"),
  RECOVERY_STEP("recovery.step"),
  RECOVERY_COMPLETE("recovery.complete"),
  RECOVERY_REFUSED("recovery.refused"),
  // roles, four eyes, transaction binding
  /** An authorisation refusal (not authorized, role conflict, four eyes) with the actor and the operation. */
  AUTHZ_REFUSED("authz.refused"),
  /** A role waits for the first certificate issued from a one-time secret (ca init --admin). */
  ROLE_PENDING("role.pending"),
  /** A waiting role bound to the key of the certificate just issued from its secret. */
  ROLE_BIND("role.bind"),
  /** kra add refused a certificate (not approved, not KeyRecoveryAgent, no card evidence...). */
  KRA_ADD_REFUSED("kra.add.refused");

  private final String id;

  AuditAction(String id) {
    this.id = id;
  }

  /** The stored identifier ("cert.issue"). */
  public String id() {
    return id;
  }

  @Override
  public String toString() {
    return id;
  }
}
