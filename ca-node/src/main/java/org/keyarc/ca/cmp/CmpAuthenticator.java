package org.keyarc.ca.cmp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.keyarc.ca.CaException;
import org.keyarc.ca.audit.log.AuditAction;
import org.keyarc.ca.auth.AuthFailures;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.store.SecretRecord;
import org.keyarc.ca.support.Digests;
import org.keyarc.ca.support.Texts;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.cmp.CmpBodies;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.CmpProtectionException;
import org.keyarc.protocol.cmp.MacKind;

/**
 * Establishes who sent a request: a one-time secret (PBM or PBMAC1), a certificate of this CA (signature, the
 * signer first in extraCerts), or the TLS client certificate for an unprotected request. An unprotected genm that
 * asks only for public information needs none of them.
 *
 * <p>A MAC is checked cheapest first, so that a forger spends the node nothing: the reference's failure budget
 * (memory), the MAC parameters against {@link CmpMac}'s allow-list (no derivation), the secret's row (unknown,
 * expired, locked, or used by another transaction: one read), then the secret is derived in the HSM and only then
 * the sender's key derivation runs. Every failure is audited with the peer's address and charged to its budgets
 * ({@link AuthFailures}); a failed MAC also counts against the secret, which is locked at the limit.
 */
final class CmpAuthenticator {
  /** The longest senderKID taken as a reference (keyarc's are 16 hex characters). */
  static final int MAX_REFERENCE_BYTES = 64;

  private final IdentityService identities;
  private final SecretService secrets;
  private final AuthFailures failures;

  CmpAuthenticator(IdentityService identities, SecretService secrets, AuthFailures failures) {
    this.identities = identities;
    this.secrets = secrets;
    this.failures = failures;
  }

  /** Sets {@code ctx.identity} (and the secret or signer serial) or refuses the request. */
  void authenticate(PKIMessage msg, CmpContext ctx, int type, X509CertificateHolder tlsClient) throws CaException {
    if (msg.getHeader().getProtectionAlg() == null || msg.getProtection() == null) {
      if (type == PKIBody.TYPE_GEN_MSG && GeneralMessages.onlyPublicInfo(msg)) {
        ctx.identity = tlsClient != null ? tls(ctx, tlsClient) : null;
        return;
      }
      if (tlsClient != null) {
        ctx.identity = tls(ctx, tlsClient);
        ctx.signerSerial = tlsClient.getSerialNumber();
        ctx.signerCert = tlsClient;
        return;
      }
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "the request is not protected; protect it with a one-time "
          + "secret (MAC) or a certificate of this CA (signature)");
    }
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(msg));
    if (MacKind.of(msg.getHeader().getProtectionAlg().getAlgorithm()).isPresent()) {
      mac(msg, ctx, type, p);
    } else {
      signature(ctx, p, type);
    }
  }

  private Identity tls(CmpContext ctx, X509CertificateHolder cert) throws CaException {
    try {
      return identities.identify(cert);
    } catch (CaException e) {
      failures.record(AuditAction.AUTH_SIGNATURE_FAILED, ctx.peer, "cert:" + Digests.hex(cert.getSerialNumber()),
          null, "tls client certificate subject=" + Texts.printable(cert.getSubject().toString()) + " code="
              + e.code().number() + " " + e.getMessage());
      throw e;
    }
  }

  private void mac(PKIMessage msg, CmpContext ctx, int type, ProtectedPKIMessage p) throws CaException {
    String body = CmpBodies.name(type);
    byte[] kid = msg.getHeader().getSenderKID() == null ? null : msg.getHeader().getSenderKID().getOctets();
    if (kid == null || kid.length == 0 || kid.length > MAX_REFERENCE_BYTES) {
      CaException e = new CaException(ErrorCode.BAD_MESSAGE_CHECK, "a MAC-protected request must carry the "
          + "secret's reference number in senderKID (1.." + MAX_REFERENCE_BYTES + " bytes)");
      failures.record(AuditAction.AUTH_MAC_FAILED, ctx.peer, "secret:?", null, "body=" + body + " "
          + e.getMessage());
      throw e;
    }
    String reference = Texts.printable(new String(kid, StandardCharsets.UTF_8));
    failures.checkReference(reference, ctx.peer);
    try {
      ctx.macKind = CmpMac.checkParameters(msg);
    } catch (CmpProtectionException e) {
      // charged to the peer only: parameters refused before any derivation put the secret at no risk
      failures.record(AuditAction.AUTH_MAC_FAILED, ctx.peer, "secret:" + reference, null, "body=" + body
          + " parameters refused before any derivation: " + e.getMessage());
      throw CmpResponder.refusal(e);
    }
    boolean continuing = type == PKIBody.TYPE_CERT_CONFIRM || type == PKIBody.TYPE_POLL_REQ;
    SecretRecord rec;
    try {
      rec = secrets.usable(reference, continuing, ctx.transactionId);
    } catch (CaException e) {
      failures.record(AuditAction.AUTH_SECRET_REFUSED, ctx.peer, "secret:" + reference, reference, "body=" + body
          + " code=" + e.code().number() + " " + e.getMessage());
      throw e;
    }
    SecretService.SecretGrant grant;
    try {
      grant = secrets.grant(rec);
    } catch (CaException e) {
      // the row no longer matches its derivation (the CA's key replaced, or its template, subject or names changed
      // in the store): refused and audited like any other unusable secret
      failures.record(AuditAction.AUTH_SECRET_REFUSED, ctx.peer, "secret:" + reference, null, "body=" + body
          + " code=" + e.code().number() + " " + e.getMessage());
      throw e;
    }
    boolean ok;
    try {
      ok = p.verify(CmpMac.verifier(ctx.macKind), grant.secret());
    } catch (CMPException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      Arrays.fill(grant.secret(), '\0');
      int n = secrets.macFailed(reference, ctx.peer, "body=" + body + " the MAC does not verify");
      failures.charge(ctx.peer, reference);
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC does not match the one-time secret of reference "
          + reference + (n >= secrets.maxFailures() ? "; that was its last allowed failure: the secret is locked, "
          + "re-issue it with keyarc secret create" : " (failure " + n + " of " + secrets.maxFailures()
          + " before the secret is locked)"));
    }
    ctx.secret = grant;
    ctx.identity = Identity.ofSecret(grant.record());
  }

  private void signature(CmpContext ctx, ProtectedPKIMessage p, int type) throws CaException {
    String body = CmpBodies.name(type);
    X509CertificateHolder[] certs = p.getCertificates();
    if (certs == null || certs.length == 0) {
      CaException e = new CaException(ErrorCode.UNKNOWN_SIGNER, "a signature-protected request must carry its "
          + "signer certificate first in extraCerts");
      failures.record(AuditAction.AUTH_SIGNATURE_FAILED, ctx.peer, "cert:?", null, "body=" + body + " "
          + e.getMessage());
      throw e;
    }
    X509CertificateHolder cert = certs[0];
    String target = "cert:" + Digests.hex(cert.getSerialNumber());
    String claimed = "body=" + body + " subject=" + Texts.printable(cert.getSubject().toString());
    IdentityService.Signer signer;
    try {
      signer = identities.checkSigner(cert);
    } catch (CaException e) {
      failures.record(AuditAction.AUTH_SIGNATURE_FAILED, ctx.peer, target, null, claimed + " code="
          + e.code().number() + " " + e.getMessage());
      throw e;
    }
    boolean ok;
    try {
      ok = p.verify(signer.verifier());
    } catch (CMPException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      CaException e = new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the signature does not verify with the signer "
          + "certificate " + Digests.hex(cert.getSerialNumber()));
      failures.record(AuditAction.AUTH_SIGNATURE_FAILED, ctx.peer, target, null, claimed + " " + e.getMessage());
      throw e;
    }
    ctx.identity = signer.identity();
    ctx.signerSerial = cert.getSerialNumber();
    ctx.signerCert = cert; // the certificate whose key verified the protection (not any other in extraCerts)
  }
}
