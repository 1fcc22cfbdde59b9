package org.keyarc.ca.audit.log;

/**
 * Every action the audit log records, with the identifier stored in {@code audit_record.action} (stable:
 * the chain's hashes cover it, and auditors search for it).
 */
public enum AuditAction {
  CA_INIT("ca.init"),
  CA_IMPORT_CERT("ca.import-cert"),
  CA_RENEW("ca.renew"),
  CA_ROLLOVER("ca.rollover"),
  CA_EXCHANGE("ca.exchange"),
  /** An expired exchange key's private key destroyed in the HSM after its grace period. */
  CA_EXCHANGE_RETIRE("ca.exchange.retire"),
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
  // wire trust (MAC, replay, responder key)
  /** A new CMP responder key and certificate (the key that signs CMP answers). */
  CA_RESPONDER("ca.responder"),
  /** A new delegated OCSP signing key and certificate. */
  CA_OCSP_SIGNER("ca.ocsp-signer"),
  /** A template was seeded, duplicated, changed, enabled or disabled (its new version in the detail). */
  TEMPLATE_CHANGE("template.change"),
  /** The store's templates did not match their seal; or an administrator resealed them as they are. */
  TEMPLATE_TAMPERED("template.tampered"),
  TEMPLATE_RESEAL("template.reseal"),
  /** A MAC-protected request failed: parameters outside the allow-list, or a MAC that does not verify. */
  AUTH_MAC_FAILED("auth.mac.failed"),
  /** A one-time secret was locked by its last allowed MAC failure. */
  AUTH_SECRET_LOCKED("auth.secret.locked"),
  /** A request named a one-time secret that is unknown, used, expired or locked. */
  AUTH_SECRET_REFUSED("auth.secret.refused"),
  /** A signature-protected request failed: no signer certificate, an unknown signer, a bad signature. */
  AUTH_SIGNATURE_FAILED("auth.signature.failed"),
  /** A protected request came again (its transactionID and senderNonce were seen before). */
  AUTH_REPLAY("auth.replay"),
  /** A peer or a reference ran out of its failure budget (recorded once per window). */
  AUTH_RATE_LIMITED("auth.rate-limited"),
  // audit anchor and auditor access
  AUDIT_ROLLBACK("audit.rollback"),
  AUDIT_ACKNOWLEDGE("audit.acknowledge"),
  AUDIT_READ("audit.read"),
  /** Refusal records lost to a full in-memory backlog while the store failed (their count). */
  AUDIT_RECORDS_LOST("audit.records.lost"),
  /** Archival refused: the agent list or policy in the store is not the one an administrator sealed. */
  KRA_CONFIG_TAMPERED("kra.config.tampered"),
  /** An agent fetched a recovery's blob and partial recovery to do its step. */
  RECOVERY_MATERIAL("recovery.material"),
  RECOVERY_RECEIPT("recovery.receipt"),
  // agent rotation and recoverability drills (kra rotate, kra drill)
  /** A certificate manager started a rotation or a drill (how many archives). */
  KRA_CEREMONY_START("kra.ceremony.start"),
  /** The ceremony file (order and blobs) was handed out. */
  KRA_CEREMONY_WORK("kra.ceremony.work"),
  /** An archive got a new record for the new agents; the previous one is kept until a drill passes. */
  KEY_ROTATE("key.rotate"),
  /** An agent fetched a ceremony's file through the node, or handed its step back (online). */
  KRA_CEREMONY_MATERIAL("kra.ceremony.material"),
  KRA_CEREMONY_STEP("kra.ceremony.step"),
  /** A drill proved that the agents can open an archive. */
  KEY_DRILL("key.drill"),
  /** An agent's answer for one archive of a rotation or drill was refused. */
  KRA_CEREMONY_REFUSED("kra.ceremony.refused"),
  // template permissions and SAN policy
  /** A request refused because its sender may not use the template, or asked for names or extensions it does not allow. */
  ENROLL_REFUSED("enroll.refused"),
  // TLS
  /** The node's own TLS server certificate issued (at ca init, or at start when missing, ending or not naming a host). */
  TLS_CERT_ISSUE("tls.cert.issue"),
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
