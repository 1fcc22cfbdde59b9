package org.keyarc.ca.cmp;

import java.math.BigInteger;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.cmp.CertConfirmContent;
import org.bouncycastle.asn1.cmp.PKIBody;
import org.bouncycastle.asn1.cmp.PKIFreeText;
import org.bouncycastle.asn1.cmp.PKIMessage;
import org.bouncycastle.asn1.cmp.PKIStatus;
import org.bouncycastle.asn1.cmp.PKIStatusInfo;
import org.bouncycastle.asn1.cmp.PollRepContent;
import org.bouncycastle.asn1.cmp.PollReqContent;
import org.bouncycastle.asn1.cmp.RevDetails;
import org.bouncycastle.asn1.cmp.RevRepContentBuilder;
import org.bouncycastle.asn1.cmp.RevReqContent;
import org.bouncycastle.asn1.crmf.CertTemplate;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.cmp.CertificateConfirmationContent;
import org.keyarc.ca.CaException;
import org.keyarc.ca.auth.Identity;
import org.keyarc.ca.issue.Enrollment;
import org.keyarc.ca.issue.PollResult;
import org.keyarc.ca.keys.CaKeyring;
import org.keyarc.ca.revoke.RevocationService;
import org.keyarc.protocol.ErrorCode;
import org.keyarc.protocol.KeyarcCmp;
import org.keyarc.protocol.cmp.CmpBodies;

/**
 * The requests that follow an issued or held certificate: certConf (accepts or rejects it), pollReq (asks
 * after a request waiting for approval) and rr (revokes it).
 */
final class FollowUps {
  private final Enrollment enrollment;
  private final RevocationService revocation;
  private final CaKeyring keys;
  private final CertRequests certRequests;

  FollowUps(Enrollment enrollment, RevocationService revocation, CaKeyring keys, CertRequests certRequests) {
    this.enrollment = enrollment;
    this.revocation = revocation;
    this.keys = keys;
    this.certRequests = certRequests;
  }

  PKIBody certConf(PKIMessage msg, CmpContext ctx) throws CaException {
    CertificateConfirmationContent conf = new CertificateConfirmationContent(
        CertConfirmContent.getInstance(msg.getBody().getContent()));
    enrollment.confirm(ctx.identity, ctx.transactionId, conf.getStatusMessages());
    return new PKIBody(PKIBody.TYPE_CONFIRM, DERNull.INSTANCE);
  }

  /** A pollRep while the request waits; once decided, the request's own answer (ip, cp or kup). */
  PKIBody pollReq(PKIMessage msg, CmpContext ctx) throws CaException {
    PollReqContent poll = PollReqContent.getInstance(msg.getBody().getContent());
    BigInteger[] ids = poll.getCertReqIdValues();
    if (ids.length != 1) {
      throw new CaException(ErrorCode.BAD_REQUEST, "poll one request per message");
    }
    PollResult r = enrollment.poll(ctx.identity, ctx.transactionId, ids[0].longValueExact());
    ASN1Integer id = new ASN1Integer(ids[0]);
    if (r instanceof PollResult.Waiting w) {
      return new PKIBody(PKIBody.TYPE_POLL_REP, new PollRepContent(id, new ASN1Integer(w.checkAfterSeconds()),
          new PKIFreeText("waiting for a certificate manager's approval")));
    }
    if (r instanceof PollResult.Denied d) {
      PKIStatusInfo denied = KeyarcCmp.rejection(ErrorCode.REQUEST_DENIED, "a certificate manager denied the "
          + "request: " + d.reason());
      return CertRequests.rejected(answerType(d.form()), id, denied);
    }
    PollResult.Issued i = (PollResult.Issued) r;
    return certRequests.issued(answerType(i.form()), id, i.cert(), i.encryptToKey());
  }

  /** The answer type of the stored request form ("ir", "cr", "kur", "p10cr"). */
  private static int answerType(String form) {
    return CmpBodies.responseType(CmpBodies.type(form));
  }

  PKIBody revocation(PKIMessage msg, CmpContext ctx) throws CaException {
    if (ctx.identity == null || ctx.identity.kind() != Identity.Kind.CERTIFICATE) {
      throw new CaException(ErrorCode.NOT_AUTHORIZED, "rr must be signed with a certificate of this CA (the "
          + "certificate itself, or a certificate manager's)");
    }
    RevDetails[] details = RevReqContent.getInstance(msg.getBody().getContent()).toRevDetailsArray();
    RevRepContentBuilder rep = new RevRepContentBuilder();
    for (RevDetails d : details) {
      CertTemplate t = d.getCertDetails();
      if (t.getSerialNumber() == null) {
        throw new CaException(ErrorCode.BAD_REQUEST, "rr must name the certificate's serial number");
      }
      if (t.getIssuer() != null && !t.getIssuer().equals(keys.caName())) {
        throw new CaException(ErrorCode.NOT_FOUND, "this CA is " + keys.caName() + ", not " + t.getIssuer());
      }
      int reason = CRLReason.unspecified;
      Extensions ext = d.getCrlEntryDetails();
      if (ext != null && ext.getExtension(Extension.reasonCode) != null) {
        reason = CRLReason.getInstance(ext.getExtensionParsedValue(Extension.reasonCode)).getValue().intValue();
      }
      revocation.revoke(ctx.identity, t.getSerialNumber().getValue(), reason, ctx.signerSerial);
      rep.add(new PKIStatusInfo(PKIStatus.granted));
    }
    return new PKIBody(PKIBody.TYPE_REVOCATION_REP, rep.build());
  }
}
