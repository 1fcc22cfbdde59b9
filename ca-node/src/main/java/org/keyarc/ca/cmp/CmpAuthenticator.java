package org.keyarc.ca.cmp;

import java.nio.charset.StandardCharsets;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.cmp.CMPException;
import org.bouncycastle.cert.cmp.GeneralPKIMessage;
import org.bouncycastle.cert.cmp.ProtectedPKIMessage;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.auth.IdentityService;
import org.keyarc.ca.auth.SecretService;
import org.keyarc.ca.support.Digests;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.cmp.CmpMac;
import org.keyarc.protocol.cmp.CmpProtectionException;
import org.keyarc.protocol.cmp.MacKind;

/**
 * Establishes who sent a request: a one-time secret (PBM or PBMAC1, its parameters bounded by {@link CmpMac}),
 * a certificate of this CA (signature, the signer first in extraCerts), or the TLS client certificate for an
 * unprotected request. An unprotected genm that asks only for public information needs none of them.
 */
final class CmpAuthenticator {
  private final IdentityService identities;
  private final SecretService secrets;

  CmpAuthenticator(IdentityService identities, SecretService secrets) {
    this.identities = identities;
    this.secrets = secrets;
  }

  /** Sets {@code ctx.identity} (and the secret or signer serial) or refuses the request. */
  void authenticate(PKIMessage msg, CmpContext ctx, int type, X509CertificateHolder tlsClient) throws CaException {
    if (msg.getHeader().getProtectionAlg() == null || msg.getProtection() == null) {
      if (type == PKIBody.TYPE_GEN_MSG && GeneralMessages.onlyPublicInfo(msg)) {
        ctx.identity = tlsClient != null ? identities.identify(tlsClient) : null;
        return;
      }
      if (tlsClient != null) {
        ctx.identity = identities.identify(tlsClient);
        ctx.signerSerial = tlsClient.getSerialNumber();
        return;
      }
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "the request is not protected; protect it with a one-time "
          + "secret (MAC) or a certificate of this CA (signature)");
    }
    ProtectedPKIMessage p = new ProtectedPKIMessage(new GeneralPKIMessage(msg));
    if (MacKind.of(msg.getHeader().getProtectionAlg().getAlgorithm()).isPresent()) {
      mac(msg, ctx, type, p);
    } else {
      signature(ctx, p);
    }
  }

  private void mac(PKIMessage msg, CmpContext ctx, int type, ProtectedPKIMessage p) throws CaException {
    byte[] kid = msg.getHeader().getSenderKID() == null ? null : msg.getHeader().getSenderKID().getOctets();
    if (kid == null) {
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "a MAC-protected request must carry the secret's "
          + "reference number in senderKID");
    }
    String reference = new String(kid, StandardCharsets.UTF_8);
    boolean continuing = type == PKIBody.TYPE_CERT_CONFIRM || type == PKIBody.TYPE_POLL_REQ;
    ctx.secret = secrets.secret(reference, continuing);
    try {
      ctx.macKind = CmpMac.checkParameters(msg);
    } catch (CmpProtectionException e) {
      throw CmpResponder.refusal(e);
    }
    boolean ok;
    try {
      ok = p.verify(CmpMac.verifier(ctx.macKind), ctx.secret.secret());
    } catch (CMPException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      ctx.secret = null;
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the MAC does not match the one-time secret of reference "
          + reference);
    }
    ctx.identity = Identity.ofSecret(ctx.secret.record());
  }

  private void signature(CmpContext ctx, ProtectedPKIMessage p) throws CaException {
    X509CertificateHolder[] certs = p.getCertificates();
    if (certs == null || certs.length == 0) {
      throw new CaException(ErrorCode.UNKNOWN_SIGNER, "a signature-protected request must carry its signer "
          + "certificate first in extraCerts");
    }
    IdentityService.Signer signer = identities.checkSigner(certs[0]);
    boolean ok;
    try {
      ok = p.verify(signer.verifier());
    } catch (CMPException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      throw new CaException(ErrorCode.BAD_MESSAGE_CHECK, "the signature does not verify with the signer certificate "
          + Digests.hex(certs[0].getSerialNumber()));
    }
    ctx.identity = signer.identity();
    ctx.signerSerial = certs[0].getSerialNumber();
  }
}
