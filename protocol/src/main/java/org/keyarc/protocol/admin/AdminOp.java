package org.keyarc.protocol.admin;

import java.util.Optional;

/**
 * Every administrative operation the node answers, by its wire name (the JSON {@code "op"}). The fields
 * each reads are named after {@link AdminFields}; every role check is on the node.
 */
public enum AdminOp {
  /** The requests held for approval; {@code status} (pending, approved, denied; empty = all). */
  REQUEST_LIST("request.list"),
  /** One held request, with the subjectAltNames it would get (answer field {@code subjectAltNames}); {@code id}. */
  REQUEST_SHOW("request.show"),
  /** Approves a held request and issues its certificate; {@code id}. */
  REQUEST_APPROVE("request.approve"),
  /** Denies a held request; {@code id}, {@code reason}. */
  REQUEST_DENY("request.deny"),
  /** Certificates, newest first; {@code status}, {@code subject}, {@code limit}. */
  CERT_LIST("cert.list"),
  /** One certificate with its DER; {@code serial}. */
  CERT_SHOW("cert.show"),
  /** Revokes a certificate; {@code serial}, {@code reason} (CRLReason number). */
  CERT_REVOKE("cert.revoke"),
  /**
   * A one-time enrollment secret; {@code template}, {@code subject}, and the subjectAltNames it binds:
   * {@code email} (an rfc822Name) and {@code subjectAltNames} (an array of "type:value"), both optional.
   */
  SECRET_CREATE("secret.create"),
  /**
   * Grants a role to the holder of one certificate: {@code serial}, or {@code subject} (the one certificate
   * holder of that name); {@code role}. The role is bound to the certificate's public key.
   */
  ROLE_GRANT("role.grant"),
  /** Takes a role away; {@code subject} or {@code serial}, {@code role}. */
  ROLE_REVOKE("role.revoke"),
  /** Who holds which role. */
  ROLE_LIST("role.list"),
  /** Verifies the audit chain and its signed checkpoints. */
  AUDIT_VERIFY("audit.verify"),
  /** Every template with its version and whether it is offered (administrator, manager, auditor). */
  TEMPLATE_LIST("template.list"),
  /** One template's definition; {@code template}. */
  TEMPLATE_SHOW("template.show"),
  /** A copy of a template under a new name; {@code template} (the source), {@code name}. */
  TEMPLATE_DUPLICATE("template.duplicate"),
  /** Changes a template; {@code template}, {@code settings} (an object of field name to text value). */
  TEMPLATE_SET("template.set"),
  /** Offers a template again; {@code template}. */
  TEMPLATE_ENABLE("template.enable"),
  /** No longer offers a template (certificates already issued stay valid); {@code template}. */
  TEMPLATE_DISABLE("template.disable"),
  /** Every template's definition, for a file (administrator, manager, auditor). */
  TEMPLATE_EXPORT("template.export"),
  /** Definitions from a file: new ones added, existing ones replaced (their version raised); {@code templates}. */
  TEMPLATE_IMPORT("template.import"),
  /** Seals the store's templates as they are, after a finding that they changed outside the CA; {@code note}. */
  TEMPLATE_RESEAL("template.reseal"),
  /** Publishes a new CRL now. */
  CRL_PUBLISH("crl.publish"),
  /**
   * Adds a key recovery agent; {@code serial} of its KeyRecoveryAgent certificate, {@code withoutCardEvidence}
   * to accept one whose request carried no card evidence. The answer names who requested and who approved it.
   */
  KRA_ADD("kra.add"),
  /** Removes a key recovery agent; {@code serial}. */
  KRA_REMOVE("kra.remove"),
  /** Sets the archival policy; {@code agents} (N), {@code threshold} (M). */
  KRA_POLICY("kra.policy"),
  /** The recovery agents, whether each is usable, and the policy. */
  KRA_LIST("kra.list"),
  /** Archived keys; one of {@code serial}, {@code subject}, {@code certHash}. */
  ARCHIVE_FIND("archive.find"),
  /**
   * Archives an existing key; {@code certificate} (DER, base64), {@code encryptedKey} (a CRMF EncryptedKey, DER,
   * base64: the private key encrypted to the exchange certificate).
   */
  ARCHIVE_IMPORT("archive.import"),
  /**
   * The recovery blobs of archived keys; one of {@code serial}, {@code subject}, {@code certHash}, {@code userName}
   * (an e-mail address or UPN in the certificates: all of that user's keys); with {@code serial}, {@code previous}
   * for the record an agent rotation replaced.
   */
  ARCHIVE_GETKEY("archive.getkey"),
  /**
   * What an agent rotation or a drill would take (the dry run); {@code kind}, {@code serials}, {@code limit},
   * {@code sample}, {@code unverified}.
   */
  KRA_CEREMONY_PLAN("kra.ceremony.plan"),
  /** Starts an agent rotation or a drill; the same fields as the plan. Answers its {@code id}. */
  KRA_CEREMONY_START("kra.ceremony.start"),
  /** A page of a ceremony's file: the signed order and unfinished archives' blobs; {@code id}, {@code offset}, {@code limit}. */
  KRA_CEREMONY_WORK("kra.ceremony.work"),
  /** The last agents' answers; {@code id}, {@code answers}. */
  KRA_CEREMONY_SUBMIT("kra.ceremony.submit"),
  /** An agent's online material: the ceremony file as the last agent left it; {@code id}. */
  KRA_CEREMONY_MATERIAL("kra.ceremony.material"),
  /** An agent's online step: the file after its pass ({@code work}, base64); {@code id}, {@code card}. */
  KRA_CEREMONY_STEP("kra.ceremony.step"),
  /** Ceremonies, or with {@code id} one ceremony's archives and their state. */
  KRA_CEREMONY_LIST("kra.ceremony.list"),
  /** Opens the online recovery of a certificate's key; {@code serial}. */
  RECOVERY_OPEN("recovery.open"),
  /** Open recoveries; {@code all} to include finished ones. */
  RECOVERY_LIST("recovery.list"),
  /** One recovery and its steps; {@code id}, {@code material}. */
  RECOVERY_SHOW("recovery.show"),
  /** Whether an agent's card may do a recovery's next step; {@code id}, {@code serial}, {@code card}. */
  RECOVERY_CHECK("recovery.check"),
  /** Records an agent's step; {@code id}, {@code serial}, {@code card}, {@code progress} (absent: the last step). */
  RECOVERY_STEP("recovery.step"),
  /** A signed receipt of a completed recovery for the key's owner (CMS SignedData, base64 {@code receipt}); {@code id}. */
  RECOVERY_RECEIPT("recovery.receipt"),
  /** The caller's identity and roles. */
  WHOAMI("whoami"),
  // audit anchor and auditor access
  /** Audit records, filtered and paged (auditor; the reading is audited). */
  AUDIT_LIST("audit.list"),
  /** An administrator's acknowledgement of an audit rollback the node found; issuance resumes. */
  AUDIT_ACKNOWLEDGE("audit.acknowledge");

  private final String wireName;

  AdminOp(String wireName) {
    this.wireName = wireName;
  }

  /** The {@code "op"} string on the wire. */
  public String wireName() {
    return wireName;
  }

  /** The operation with this wire name; empty for an unknown (or null) name. */
  public static Optional<AdminOp> ofWire(String wireName) {
    for (AdminOp op : values()) {
      if (op.wireName.equals(wireName)) {
        return Optional.of(op);
      }
    }
    return Optional.empty();
  }
}
