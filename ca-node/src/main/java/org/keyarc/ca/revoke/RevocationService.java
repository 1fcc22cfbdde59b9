package org.keyarc.ca.revoke;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.Audit;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.store.CertRecord;
import org.keyarc.ca.store.Role;
import org.keyarc.ca.store.Store;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;

import static org.keyarc.ca.support.Digests.hex;

/** Revocation of this CA's certificates, each followed by a new CRL. */
public final class RevocationService {
  private final Store store;
  private final CrlService crls;
  private final OcspService ocsp;
  private final Clock clock;
  private final String issuer;

  public RevocationService(Store store, CrlService crls, OcspService ocsp, Clock clock, String issuer) {
    this.ocsp = ocsp;
    this.store = store;
    this.crls = crls;
    this.clock = clock;
    this.issuer = issuer;
  }

  /**
   * Revokes a certificate of this CA, then publishes a new CRL (a delta CRL when the CA publishes them). A certificate manager may revoke any
   * certificate; anyone else only the certificate their own message was signed with ({@code signerSerial}).
   */
  public void revoke(Identity who, BigInteger serial, int reason, BigInteger signerSerial) throws CaException {
    if (!who.has(Role.MANAGER) && !serial.equals(signerSerial)) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "only a certificate manager, or the holder of the "
          + "certificate itself, may revoke " + hex(serial));
    }
    if (reason < 0 || reason > 10 || reason == 7) {
      throw new CaException(ErrorCode.BAD_REQUEST, "revocation reason " + reason + " is not a CRLReason");
    }
    if (reason == 8) {
      throw new CaException(ErrorCode.BAD_REQUEST, "revocation reason 8 (removeFromCRL) is only for delta CRLs, "
          + "which this CA does not publish");
    }
    Instant now = clock.instant();
    store.inTransaction(tx -> {
      CertRecord rec = tx.certificates().find(issuer, serial).orElseThrow(() -> new CaException(ErrorCode.NOT_FOUND,
          "no certificate with serial " + hex(serial)));
      if (!tx.certificates().revoke(issuer, serial, reason, now)) {
        throw new CaException(ErrorCode.CERT_REVOKED, "certificate " + hex(serial) + " is already revoked");
      }
      Audit.append(tx, who.actor(), AuditAction.CERT_REVOKE, "serial:" + hex(serial),
          "reason=" + Texts.reasonName(reason) + " subject=" + rec.subject(), now);
      return null;
    });
    ocsp.revoked();
    if (crls.deltas()) {
      crls.publishDelta(who.actor()); // what delta CRLs are for: the revocation out at once, the complete CRL on time
    } else {
      crls.publish(who.actor());
    }
  }
}
